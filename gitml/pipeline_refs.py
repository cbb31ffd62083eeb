"""What pipelines reference, for `gitml gc`: stage outs recorded in `gitml.lock` and the
run-cache (docs/spec/run-cache.md, docs/spec/lockfile.md).

The pipeline modules (`gitml.pipeline.lockfile`, `gitml.pipeline.runcache`) are looked up
at run time; where this gitml has none, there is no `gitml.lock` to honour and no
run-cache, and these functions say so (`available()` is False).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from gitml.cache import Cache
from gitml.errors import GitmlError
from gitml.hashing import Oid, hash_bytes
from gitml.pipeline import LOCK_FILE as LOCK_FILE
from gitml.pointer import Pointer


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available() -> bool:
    return _module("gitml.pipeline.runcache") is not None


def lock_files(root: Path) -> list[str]:
    """The workspace's gitml.lock files: the root one and one beside every gitml.yaml."""
    project = _module("gitml.pipeline.project")
    if project is None:
        return [LOCK_FILE]
    files = [project.lock_path(f) for f in project.pipeline_files(root)]
    return list(dict.fromkeys([LOCK_FILE, *files]))


def lock_outs(data: bytes, where: str) -> list[tuple[str, Pointer]]:
    """(path, Pointer) of every stage out recorded in a gitml.lock's bytes.

    Raises FormatError naming `where` when the lock file is malformed.
    """
    lockfile = _module("gitml.pipeline.lockfile")
    if lockfile is None:
        return []
    entries = lockfile.parse_lock(data, where)
    found: list[tuple[str, Pointer]] = []
    for entry in entries.values():
        for out in entry.outs:
            found.append((str(out.path), out.pointer()))
    return found


@dataclass(frozen=True)
class RunRef:
    """One run-cache marker and what its entry needs (None: the entry is unreadable)."""

    key: str
    entry_oid: Oid
    marker: Path
    outs: tuple[Pointer, ...] | None


def _entry_outs(runcache: ModuleType, data: bytes, entry_oid: Oid) -> tuple[Pointer, ...] | None:
    if hash_bytes(data) != entry_oid:
        return None
    try:
        entry = runcache.parse(data, f"run-cache entry {entry_oid}")
    except GitmlError:
        return None
    return tuple(out.pointer() for out in entry.outs)


def run_cache(cache: Cache) -> Iterator[RunRef]:
    """Every marker of the local run-cache with the outs its entry records."""
    runcache = _module("gitml.pipeline.runcache")
    if runcache is None:
        return
    for key, entry_oid in runcache.iter_markers(cache):
        marker = cache.root / runcache.marker_relpath(key, entry_oid)
        try:
            data = cache.read_bytes(entry_oid)
        except GitmlError:
            yield RunRef(key, entry_oid, marker, None)
            continue
        yield RunRef(key, entry_oid, marker, _entry_outs(runcache, data, entry_oid))


def entry_outs(data: bytes, entry_oid: Oid) -> tuple[Pointer, ...] | None:
    """The outs a run-cache entry's bytes record (None: unreadable or no pipeline support)."""
    runcache = _module("gitml.pipeline.runcache")
    return None if runcache is None else _entry_outs(runcache, data, entry_oid)


def remove_marker(ref: RunRef) -> None:
    """Drop one marker, then its key directory if it became empty."""
    try:
        os.unlink(ref.marker)
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        os.rmdir(ref.marker.parent)
