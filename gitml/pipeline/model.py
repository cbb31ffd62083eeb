"""Pipeline values: stages as declared in `gitml.yaml` and runs as recorded in `gitml.lock`.

Pure data; every path is workspace-relative, '/'-separated and already validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gitml.hashing import Oid
from gitml.pointer import Pointer

OutKind = Literal["outs", "metrics", "plots"]
DEFAULT_PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class OutSpec:
    path: str
    kind: OutKind = "outs"
    cache: bool = True
    persist: bool = False
    push: bool = True
    # A plot's properties as written (x, y, x_label, y_label, title, template, header).
    plot: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ParamsSpec:
    """Keys of one params file a stage depends on; `keys` None means the whole file."""

    file: str
    keys: tuple[str, ...] | None


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: tuple[str, ...]
    cmd_is_list: bool = False
    wdir: str = ""  # workspace-relative; "" is the workspace root
    deps: tuple[str, ...] = ()
    params: tuple[ParamsSpec, ...] = ()
    outs: tuple[OutSpec, ...] = ()
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    # Keys of params files read by ${...} interpolation (shown by `params diff`, as DVC does).
    tracked_vars: tuple[ParamsSpec, ...] = ()

    @property
    def cmd_value(self) -> str | list[str]:
        """cmd as written: a string, or a list of commands run one after another."""
        return list(self.cmd) if self.cmd_is_list else self.cmd[0]


@dataclass(frozen=True)
class LockedPath:
    """A dep or out as it was when its stage last ran."""

    path: str
    oid: Oid
    size: int
    nfiles: int | None = None  # set for directories
    executable: bool = False

    @property
    def is_dir(self) -> bool:
        return self.nfiles is not None

    def pointer(self) -> Pointer:
        if self.nfiles is not None:
            return Pointer("dir", self.oid, self.size, nfiles=self.nfiles)
        return Pointer("file", self.oid, self.size, executable=self.executable)

    @classmethod
    def from_pointer(cls, path: str, pointer: Pointer) -> LockedPath:
        return cls(path, pointer.oid, pointer.size, pointer.nfiles, pointer.executable)

    def same_content(self, other: LockedPath | None) -> bool:
        return (
            other is not None
            and self.oid == other.oid
            and self.is_dir == other.is_dir
            and self.executable == other.executable
        )


ParamValues = dict[str, dict[str, Any]]  # params file -> key -> value


@dataclass(frozen=True)
class LockEntry:
    cmd: tuple[str, ...]
    cmd_is_list: bool = False
    wdir: str = ""
    deps: tuple[LockedPath, ...] = ()
    params: ParamValues = field(default_factory=dict)
    outs: tuple[LockedPath, ...] = ()

    def dep(self, path: str) -> LockedPath | None:
        return next((d for d in self.deps if d.path == path), None)

    def out(self, path: str) -> LockedPath | None:
        return next((o for o in self.outs if o.path == path), None)
