"""The workspace: finds the root and owns config, cache, state and the lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from gitml import git
from gitml.cache import Cache
from gitml.config import Config
from gitml.errors import FormatError, NotAWorkspaceError, PathError
from gitml.lock import workspace_lock
from gitml.paths import ensure_inside, to_workspace_relpath, validate_relpath
from gitml.pointer import (
    MAX_POINTER_BYTES,
    Pointer,
    output_path_for,
    parse_pointer,
    pointer_path_for,
)
from gitml.progress import NullProgress, Progress
from gitml.stale_temps import remove_stale
from gitml.state import StateDB

GITML_DIR = ".gitml"
_GITML_GITIGNORE = "/config.local\n/cache/\n/tmp/\n/state.db*\n"


@dataclass
class Workspace:
    root: Path
    progress: Progress = field(default_factory=NullProgress)

    @property
    def gitml_dir(self) -> Path:
        return self.root / GITML_DIR

    @cached_property
    def config(self) -> Config:
        return Config.load(self.gitml_dir)

    @cached_property
    def cache(self) -> Cache:
        return Cache(self.config.cache_dir(self.gitml_dir))

    @cached_property
    def state(self) -> StateDB:
        return StateDB(self.gitml_dir / "state.db")

    @property
    def tmp_dir(self) -> Path:
        return self.gitml_dir / "tmp"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with workspace_lock(self.tmp_dir / "lock"):
            remove_stale(self.cache.tmp_dir)
            yield

    @classmethod
    def find(cls, start: Path | None = None, progress: Progress | None = None) -> Workspace:
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if (candidate / GITML_DIR).is_dir() and (candidate / GITML_DIR / "config").exists():
                return cls(candidate, progress or NullProgress())
        raise NotAWorkspaceError(
            f"not a gitml workspace (no {GITML_DIR}/ in {here} or its parents)",
            hint="run 'gitml init' at the top of your git work tree",
        )

    @classmethod
    def init(cls, start: Path | None = None) -> tuple[Workspace, bool]:
        """Create .gitml/ at the top of the git work tree; returns (workspace, created)."""
        root = git.toplevel(start or Path.cwd())
        gitml_dir = root / GITML_DIR
        created = not (gitml_dir / "config").exists()
        gitml_dir.mkdir(exist_ok=True)
        if created:
            (gitml_dir / "config").write_text(
                "# gitml configuration (tracked in git). Per-machine settings and\n"
                "# credentials belong in .gitml/config.local, which git ignores.\n"
            )
        ignore = gitml_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text(_GITML_GITIGNORE)
        return cls(root), created

    # Paths -----------------------------------------------------------------

    def relpath(self, user_path: str) -> str:
        return to_workspace_relpath(self.root, user_path)

    def abspath(self, relpath: str) -> Path:
        return ensure_inside(self.root, relpath)

    def display(self, relpath: str) -> str:
        """A relpath as the user would type it from their current directory."""
        import os

        try:
            return os.path.relpath(self.root / relpath)
        except ValueError:
            return relpath

    # Pointers ----------------------------------------------------------------

    def tracked_outputs(self) -> list[str]:
        outputs = []
        for pointer_relpath in git.list_pointer_files(self.root):
            if pointer_relpath.startswith(GITML_DIR + "/"):
                continue
            outputs.append(output_path_for(pointer_relpath))
        return outputs

    def read_pointer(self, relpath: str) -> Pointer:
        pointer_relpath = pointer_path_for(relpath)
        try:
            validate_relpath(relpath, what=pointer_relpath)
        except PathError as exc:
            raise FormatError(str(exc)) from None
        path = self.abspath(pointer_relpath)
        try:
            with open(
                path, "rb"
            ) as handle:  # a huge file is refused unread: one byte past the limit
                data = handle.read(MAX_POINTER_BYTES + 1)
        except FileNotFoundError:
            raise PathError(f"{self.display(relpath)} is not tracked by gitml") from None
        except IsADirectoryError:
            raise FormatError(f"{pointer_relpath}: is a directory, not a pointer file") from None
        return parse_pointer(data, pointer_relpath)

    def has_pointer(self, relpath: str) -> bool:
        return (self.root / pointer_path_for(relpath)).is_file()
