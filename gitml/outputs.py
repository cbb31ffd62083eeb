"""Observing tracked outputs in the workspace (scan, stat cache, parallel hashing) and
materialising them from the cache."""

from __future__ import annotations

import contextlib
import os
import stat as stat_mod
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gitml import fsutil
from gitml.cache import Cache
from gitml.errors import PathError
from gitml.hashing import ALGORITHM, Oid, hash_bytes, hash_file
from gitml.manifest import Entry, Manifest
from gitml.paths import validate_name
from gitml.pointer import Pointer
from gitml.progress import Progress
from gitml.state import StateDB
from gitml.statscan import TEMP_PREFIX, fingerprint, scan_stats


def sibling_temp(target: str | Path) -> str:
    """A short temp name beside `target` (never derived from its name, which may be 255 bytes
    already); scans skip names with TEMP_PREFIX."""
    head = os.path.dirname(target)
    return os.path.join(head, f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}")


_SMALL = 4 * 1024 * 1024


@dataclass
class ObservedFile:
    relpath: str  # workspace-relative
    path: str
    st: os.stat_result
    oid: Oid | None = None
    executable: bool = False
    linked_oid: Oid | None = None  # a symlink into the cache names its object
    # oid was hashed from bytes that had stat `st`, outside the racy window: while the stat
    # stays the same, so do the bytes
    settled: bool = False


@dataclass
class Observed:
    kind: str  # "file" | "dir" | "missing"
    files: list[ObservedFile] = field(default_factory=list)
    manifest: Manifest | None = None

    def pointer(self) -> Pointer:
        if self.kind == "dir":
            assert self.manifest is not None
            return Pointer("dir", self.manifest.oid(), self.manifest.size, self.manifest.nfiles)
        (only,) = self.files
        assert only.oid is not None
        return Pointer("file", only.oid, only.st.st_size, executable=only.executable)


def _cache_symlink_oid(path: str, target: str, cache: Cache) -> Oid | None:
    """The object a symlink points at, if it points into this cache."""
    resolved = Path(os.path.normpath(os.path.join(os.path.dirname(path), target)))
    base = cache.root / ALGORITHM
    try:
        rel = resolved.relative_to(base)
    except ValueError:
        return None
    parts = rel.parts
    if len(parts) == 2 and len(parts[0]) == 2 and len(parts[1]) == 62:
        try:
            return Oid.from_hex(parts[0] + parts[1])
        except Exception:
            return None
    return None


def _observe_one(relpath: str, path: str, st: os.stat_result, cache: Cache) -> ObservedFile:
    if stat_mod.S_ISLNK(st.st_mode):
        linked = _cache_symlink_oid(path, os.readlink(path), cache)
        if linked is None:
            raise PathError(f"{relpath}: is a symlink; gitml tracks regular files and directories")
        real = os.stat(path)
        executable = bool(real.st_mode & stat_mod.S_IXUSR)
        return ObservedFile(
            relpath, path, real, oid=linked, executable=executable, linked_oid=linked
        )
    if not stat_mod.S_ISREG(st.st_mode):
        raise PathError(f"{relpath}: is not a regular file or directory")
    return ObservedFile(relpath, path, st, executable=bool(st.st_mode & stat_mod.S_IXUSR))


def scan_dir(root_relpath: str, root_path: str, cache: Cache) -> list[ObservedFile]:
    found: list[ObservedFile] = []
    stack = [(root_relpath, root_path)]
    while stack:
        rel, directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX):
                    continue
                child_rel = f"{rel}/{entry.name}"
                validate_name(entry.name, child_rel, first=rel == root_relpath)
                st = entry.stat(follow_symlinks=False)
                mode = st.st_mode
                if stat_mod.S_ISDIR(mode):
                    stack.append((child_rel, entry.path))
                elif stat_mod.S_ISREG(mode):  # the common case, without a call per file
                    found.append(
                        ObservedFile(
                            child_rel, entry.path, st, executable=bool(mode & stat_mod.S_IXUSR)
                        )
                    )
                else:
                    found.append(_observe_one(child_rel, entry.path, st, cache))
    return found


def known_dir_pointer(relpath: str, path: Path, state: StateDB) -> Pointer | None:
    """The pointer a directory output would get, if its stat fingerprint is on record."""
    try:
        entries = scan_stats(relpath, str(path))
    except OSError:
        return None
    known = state.get_dir(relpath, fingerprint(entries))
    return Pointer("dir", *known) if known else None


def hash_files(
    files: list[ObservedFile],
    state: StateDB,
    progress: Progress,
    on_small: Callable[[ObservedFile, bytes], None] | None = None,
) -> None:
    """Fill in `oid` for every file, from the stat cache where it can be trusted.

    Small files are read and hashed one after another: with warm pages a thread pool was
    4x slower here (GIL hand-offs on every open/read/close of a 4 KiB file). `on_small`
    gets each small file's bytes as hashed, so `add` can store them without reading again.
    """
    todo = []
    for f in files:
        if f.oid is None:
            f.oid = state.get(f.relpath, f.st)
            if f.oid is None:
                todo.append(f)
            else:
                f.settled = True
    if not todo:
        return
    total = sum(f.st.st_size for f in todo)
    # Judged against the time hashing started: a file last modified a racy window before
    # that can only change again with a different mtime (timestamps are clock ticks).
    started = time.time_ns()
    with progress.task("Hashing", total, unit="bytes") as task:
        advance, read_small, small_limit = task.advance, _read_small, _SMALL  # hot loop
        for f in todo:
            size = f.st.st_size
            if size < small_limit:
                data = read_small(f.path, size)
                if len(data) != size:
                    raise PathError(f"{f.relpath}: changed while it was being read; try again")
                f.oid = hash_bytes(data)
                if on_small is not None:
                    on_small(f, data)
                advance(size)
            else:  # BLAKE3 spreads each large file over all cores itself
                f.oid = hash_file(f.path, size, advance)  # the bar moves within the file
    for f in todo:
        assert f.oid is not None
        f.settled = state.put(f.relpath, f.st, f.oid, now_ns=started)


def _read_small(path: str, size: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, size + 1)  # one byte more shows a file that grew since its stat
        while len(data) <= size:  # short reads (network filesystems) and growth
            more = os.read(fd, _SMALL)
            if not more:
                break
            data += more
        return data
    finally:
        os.close(fd)


def observe(
    relpath: str,
    path: Path,
    cache: Cache,
    state: StateDB,
    progress: Progress,
    on_small: Callable[[ObservedFile, bytes], None] | None = None,
) -> Observed:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Observed("missing")
    if stat_mod.S_ISDIR(st.st_mode):
        files = scan_dir(relpath, str(path), cache)
        hash_files(files, state, progress, on_small)
        prefix = len(relpath) + 1
        entries = [
            Entry(f.relpath[prefix:], f.oid, f.st.st_size, f.executable)  # type: ignore[arg-type]
            for f in files
        ]
        manifest = Manifest.build(entries, from_filesystem=True)
        # Only when every file's hash is settled (outside the racy window before it was
        # read), and no symlinks (a symlink's f.st is its target's).
        if all(f.settled and f.linked_oid is None for f in files):
            state.put_dir(
                relpath,
                fingerprint((f.relpath, f.st) for f in files),
                manifest.oid(),
                manifest.size,
                manifest.nfiles,
                max((f.st.st_mtime_ns for f in files), default=0),
            )
        return Observed("dir", files, manifest)
    observed = _observe_one(relpath, str(path), st, cache)
    hash_files([observed], state, progress, on_small)
    return Observed("file", [observed])


def shares_inode_with_cache(f: ObservedFile, cache: Cache, oid: Oid) -> bool:
    try:
        return os.stat(cache.path(oid)).st_ino == f.st.st_ino and f.linked_oid is None
    except FileNotFoundError:
        return False


# Materialising ----------------------------------------------------------------


def object_executable(cache: Cache, oid: Oid) -> bool:
    return bool(os.stat(cache.path(oid)).st_mode & stat_mod.S_IXUSR)


def _place(
    cache: Cache,
    oid: Oid,
    target: str,
    linker: fsutil.Linker,
    executable: bool,
    *,
    new: bool = False,
) -> None:
    """Put object `oid` at `target`.

    An existing file is replaced atomically (temp name beside it, then rename). A `new`
    file, journaled by the caller, is created in place: half the directory operations of
    temp + rename, which dominate checkouts of many small files.
    """
    # A hardlink or symlink shows the object's own mode and cannot carry another
    # executable bit: such a file gets a copy (or reflink) instead.
    links_ok = not linker.may_link or object_executable(cache, oid) == executable
    mode = 0o755 if executable else 0o644
    if new:
        try:
            linker.place(cache.path(oid), target, mode, links_ok=links_ok)
            return
        except (FileExistsError, IsADirectoryError):
            pass
    tmp = sibling_temp(target)
    try:
        linker.place(str(cache.path(oid)), tmp, 0o755 if executable else 0o644, links_ok=links_ok)
        try:
            os.replace(tmp, target)
        except IsADirectoryError:
            fsutil.remove_path(Path(target))
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass
class PlaceResult:
    placed: list[tuple[str, str, Oid]] = field(default_factory=list)  # (relpath, path, oid)
    removed: list[str] = field(default_factory=list)


def place_file(
    cache: Cache, target: Path, oid: Oid, executable: bool, linker: fsutil.Linker
) -> None:
    if target.is_dir() and not target.is_symlink():
        fsutil.remove_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _place(cache, oid, str(target), linker, executable)


def place_dir(
    cache: Cache,
    relpath: str,
    target: Path,
    manifest: Manifest,
    current: Iterable[ObservedFile],
    linker: fsutil.Linker,
    on_file: Callable[[int], None],
    journal: Callable[[list[str]], None] | None = None,
) -> PlaceResult:
    """Make directory `target` hold exactly `manifest`'s files; only changed files are written.

    Files that do not exist yet are first passed to `journal` (so an interrupted checkout
    can tell its own half-written files from user edits), then created in place.
    """
    result = PlaceResult()
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        fsutil.remove_path(target)
    target.mkdir(parents=True, exist_ok=True)  # an empty tracked directory has no entries
    have = {f.relpath: f for f in current}
    prefix = relpath + "/"
    wanted = {prefix + e.relpath for e in manifest}
    for rel, f in have.items():
        if rel not in wanted:
            fsutil.remove_path(f.path)
            result.removed.append(rel)
    top = str(target)
    made: set[str] = set()
    if journal is not None:
        journal([prefix + e.relpath for e in manifest if prefix + e.relpath not in have])
    for entry in manifest:
        rel = prefix + entry.relpath
        existing = have.get(rel)
        if (
            existing is not None
            and existing.oid == entry.oid
            and existing.linked_oid is None
            and (
                existing.executable == entry.executable
                # chmod on a hardlink would change the cache object's mode: re-place instead
                or not shares_inode_with_cache(existing, cache, entry.oid)
            )
        ):
            if existing.executable != entry.executable:
                fsutil.set_executable(existing.path, entry.executable)
            on_file(entry.size)
            continue
        path = os.path.join(top, entry.relpath)
        parent = os.path.dirname(path)
        if parent not in made:
            _make_parents(target, Path(parent))
            made.add(parent)
        _place(
            cache,
            entry.oid,
            path,
            linker,
            entry.executable,
            new=journal is not None and not existing,
        )
        result.placed.append((rel, path, entry.oid))
        on_file(entry.size)
    if result.removed:
        _remove_empty_dirs(target)
    return result


def _make_parents(top: Path, directory: Path) -> None:
    """mkdir -p, replacing any file that stands where a directory must go."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        probe = directory
        chain = []
        while probe != top and probe not in chain:
            chain.append(probe)
            probe = probe.parent
        for p in reversed(chain):
            if p.exists() and not p.is_dir():
                p.unlink()
        directory.mkdir(parents=True, exist_ok=True)


def _remove_empty_dirs(top: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        if not dirnames and not filenames and Path(dirpath) != top:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
