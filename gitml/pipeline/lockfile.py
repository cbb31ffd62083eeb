"""`gitml.lock`: what each stage's last successful run used and produced (machine-owned).

Written atomically with a deterministic layout (docs/spec/lockfile.md); read strictly,
since it is untrusted input from git: every path is validated and every id parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.datafiles import dump_yaml, load_yaml, read_bytes
from gitml.errors import FormatError, PathError
from gitml.fsutil import atomic_write_bytes
from gitml.hashing import Oid
from gitml.paths import validate_relpath
from gitml.pipeline import LOCK_FILE
from gitml.pipeline.model import LockedPath, LockEntry, ParamValues
from gitml.pointer import Pointer

LOCK_VERSION = 1
_HEADER = "# Written by `gitml repro`; do not edit by hand.\n"
_ENTRY_KEYS = frozenset({"cmd", "wdir", "deps", "params", "outs"})
_PATH_KEYS = ("path", "oid", "size", "nfiles", "executable")


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(f"{where}: must be a non-negative integer")
    return value


def parse_locked_path(data: Any, where: str) -> LockedPath:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: must be a mapping with path, oid and size")
    for key in data:
        if key not in _PATH_KEYS:
            raise FormatError(f"{where}: unknown key '{str(key)[:40]}'")
    for key in ("path", "oid", "size"):
        if key not in data:
            raise FormatError(f"{where}: missing '{key}'")
    path = data["path"]
    if not isinstance(path, str):
        raise FormatError(f"{where}: path must be a string")
    try:
        validate_relpath(path, what=f"{where}: path")
    except PathError as exc:
        raise FormatError(str(exc)) from None
    if not isinstance(data["oid"], str):
        raise FormatError(f"{where}: oid must be a string")
    try:
        oid = Oid.parse(data["oid"])
    except FormatError as exc:
        raise FormatError(f"{where}: {exc}") from None
    nfiles = data.get("nfiles")
    executable = data.get("executable", False)
    if executable is not False and executable is not True:
        raise FormatError(f"{where}: executable must be true or false")
    if nfiles is not None and executable:
        raise FormatError(f"{where}: a directory cannot be executable")
    return LockedPath(
        path,
        oid,
        _count(data["size"], f"{where}: size"),
        None if nfiles is None else _count(nfiles, f"{where}: nfiles"),
        executable,
    )


def render_locked_path(item: LockedPath) -> dict[str, Any]:
    data: dict[str, Any] = {"path": item.path, "oid": str(item.oid), "size": item.size}
    if item.nfiles is not None:
        data["nfiles"] = item.nfiles
    if item.executable:
        data["executable"] = True
    return data


def _paths(data: Any, where: str) -> tuple[LockedPath, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise FormatError(f"{where}: must be a list")
    items = tuple(parse_locked_path(d, f"{where}[{i}]") for i, d in enumerate(data))
    if len({i.path for i in items}) != len(items):
        raise FormatError(f"{where}: a path is listed twice")
    return items


def _params(data: Any, where: str) -> ParamValues:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FormatError(f"{where}: must map params files to their values")
    values: ParamValues = {}
    for file, keys in data.items():
        if not isinstance(file, str) or not isinstance(keys, dict):
            raise FormatError(f"{where}: '{str(file)[:40]}' must map parameter names to values")
        try:
            validate_relpath(file, what=f"{where}: {file}")
        except PathError as exc:
            raise FormatError(str(exc)) from None
        if not all(isinstance(k, str) for k in keys):
            raise FormatError(f"{where}: {file}: parameter names must be strings")
        values[file] = dict(keys)
    return values


def parse_entry(data: Any, where: str) -> LockEntry:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: must be a mapping")
    for key in data:
        if key not in _ENTRY_KEYS:
            raise FormatError(f"{where}: unknown key '{str(key)[:40]}'")
    cmd = data.get("cmd")
    if isinstance(cmd, str):
        cmd_tuple, is_list = (cmd,), False
    elif isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
        cmd_tuple, is_list = tuple(cmd), True
    else:
        raise FormatError(f"{where}: cmd must be a string or a list of strings")
    wdir = data.get("wdir", "")
    if not isinstance(wdir, str):
        raise FormatError(f"{where}: wdir must be a string")
    if wdir:
        try:
            validate_relpath(wdir, what=f"{where}: wdir")
        except PathError as exc:
            raise FormatError(str(exc)) from None
    return LockEntry(
        cmd=cmd_tuple,
        cmd_is_list=is_list,
        wdir=wdir,
        deps=_paths(data.get("deps"), f"{where}: deps"),
        params=_params(data.get("params"), f"{where}: params"),
        outs=_paths(data.get("outs"), f"{where}: outs"),
    )


def render_entry(entry: LockEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"cmd": list(entry.cmd) if entry.cmd_is_list else entry.cmd[0]}
    if entry.wdir:
        data["wdir"] = entry.wdir
    if entry.deps:
        data["deps"] = [render_locked_path(d) for d in sorted(entry.deps, key=lambda d: d.path)]
    if entry.params:
        data["params"] = {
            file: {k: entry.params[file][k] for k in sorted(entry.params[file])}
            for file in sorted(entry.params)
        }
    if entry.outs:
        data["outs"] = [render_locked_path(o) for o in sorted(entry.outs, key=lambda o: o.path)]
    return data


@dataclass
class Lockfile:
    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, relpath: str = LOCK_FILE) -> Lockfile:
        path = root / relpath
        try:
            raw = read_bytes(path, relpath)
        except FileNotFoundError:
            return cls(path)
        except IsADirectoryError:
            raise FormatError(f"{relpath}: is a directory") from None
        return cls(path, parse_lock(raw, relpath))

    def save(self, order: Iterable[str] = ()) -> None:
        """Write atomically: stages in `order` first (the gitml.yaml order), then the rest."""
        rank = {name: i for i, name in enumerate(order)}
        names = sorted(self.entries, key=lambda n: (rank.get(n, len(rank)), n))
        document = {
            "version": LOCK_VERSION,
            "stages": {name: render_entry(self.entries[name]) for name in names},
        }
        atomic_write_bytes(self.path, (_HEADER + dump_yaml(document)).encode("utf-8"))


def parse_lock(raw: bytes, where: str = LOCK_FILE) -> dict[str, LockEntry]:
    data = load_yaml(raw, where)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FormatError(f"{where}: not a gitml lock file (the top level must be a mapping)")
    for key in data:
        if key not in ("version", "stages"):
            raise FormatError(f"{where}: unknown key '{str(key)[:40]}'")
    if data.get("version") != LOCK_VERSION:
        raise FormatError(
            f"{where}: lock file version {str(data.get('version'))[:20]!r} "
            "is not supported by this gitml"
        )
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise FormatError(f"{where}: 'stages' must be a mapping")
    entries = {}
    for name, entry in stages.items():
        if not isinstance(name, str):
            raise FormatError(f"{where}: stage names must be strings")
        entries[name] = parse_entry(entry, f"{where}: stage '{name}'")
    return entries


def cached_outputs(
    stages: Mapping[str, Any], entries: Mapping[str, LockEntry], *, pushable_only: bool = False
) -> list[tuple[str, Pointer]]:
    """(relpath, Pointer) of every cached out that a stage of the pipeline has in the lock;
    with `pushable_only`, not those declared `push: false` (never expected on a remote)."""
    result = []
    for name, stage in stages.items():
        entry = entries.get(name)
        if entry is None:
            continue
        for out in stage.outs:
            locked = entry.out(out.path)
            if out.cache and locked is not None and (out.push or not pushable_only):
                result.append((out.path, locked.pointer()))
    return result
