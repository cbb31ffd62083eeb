"""What is on disk at a tracked output's path: scan, stat cache, hashing (`observe`), and
putting what was observed into the cache (`store_observed`, for add, commit and repro)."""

from __future__ import annotations

import os
import stat as stat_mod
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import fsutil
from gitml.cache import Cache
from gitml.errors import PathError
from gitml.hashing import ALGORITHM, Oid, hash_bytes, hash_file
from gitml.manifest import Entry, Manifest
from gitml.paths import validate_name
from gitml.pointer import Pointer
from gitml.progress import Progress
from gitml.state import StateDB, racy_wait_ns
from gitml.statscan import TEMP_PREFIX, dir_fingerprint, fingerprint

if TYPE_CHECKING:
    from gitml.workspace import Workspace


def sibling_temp(target: str | Path) -> str:
    """A short temp name beside `target` (never derived from its name, which may be 255 bytes
    already); scans skip names with TEMP_PREFIX."""
    head = os.path.dirname(target)
    return os.path.join(head, f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}")


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
        digest = dir_fingerprint(relpath, str(path))
    except OSError:
        return None
    known = state.get_dir(relpath, digest)
    return Pointer("dir", *known) if known else None


def objects_present(cache: Cache, state: StateDB, pointer: Pointer) -> bool:
    """Whether the cache holds the object a pointer names and, for a directory, every file
    its manifest lists (remembered per state of the cache's shard directories)."""
    if not cache.exists(pointer.oid):
        return False
    if pointer.kind != "dir":
        return True
    shards = cache.shards_digest()  # taken before the listing: a change during it shows
    if shards is not None and state.is_complete(pointer.oid, shards[0]):
        return True
    if not cache.has_manifest_objects(pointer.oid):
        return False
    if shards is not None:
        state.put_complete(pointer.oid, *shards)
    return True


# From this many files on, `record_complete` waits out the racy window (<= 50 ms) rather
# than leave the next status to list the cache's shards (~0.3 s at 100,000 objects).
COMPLETE_AFTER_ADD_FILES = 5_000


def record_complete(cache: Cache, state: StateDB, pointer: Pointer) -> None:
    """Remember that every object of a large directory is cached, right after `add` stored
    or found each of them, so the next `status` does not list the cache to learn it. The
    shards `add` just wrote are racily new (a removal within the same timestamp tick would
    keep their mtime), so the fine window is waited out first, and nothing is recorded if
    the shards changed meanwhile or have whole-second timestamps: status then lists the
    cache once, as before."""
    if pointer.kind != "dir" or (pointer.nfiles or 0) < COMPLETE_AFTER_ADD_FILES:
        return
    shards = cache.shards_digest()
    if shards is None:
        return
    wait = racy_wait_ns(shards[1], time.time_ns())
    if wait is None:
        return
    if wait:
        time.sleep(wait / 1e9)
        if cache.shards_digest() != shards:  # another process added or removed an object
            return
    state.put_complete(pointer.oid, *shards)


def hash_files(
    files: list[ObservedFile],
    state: StateDB,
    progress: Progress,
    on_small: Callable[[ObservedFile, bytes], None] | None = None,
    store_large: Callable[[ObservedFile, Callable[[int], None]], Oid] | None = None,
) -> None:
    """Fill in `oid` for every file, from the stat cache where it can be trusted.

    Small files are read and hashed one after another: with warm pages a thread pool was
    4x slower here (GIL hand-offs on every open/read/close of a 4 KiB file). `on_small`
    gets each small file's bytes as hashed, so `add` can store them without reading again;
    `store_large` stores a large file and returns its id, hashing it as it is copied (and
    reporting its bytes to the progress callback it is given).
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
            elif store_large is not None:  # the bar moves as the copy is hashed
                f.oid = store_large(f, advance)
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
    store_large: Callable[[ObservedFile, Callable[[int], None]], Oid] | None = None,
) -> Observed:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Observed("missing")
    if stat_mod.S_ISDIR(st.st_mode):
        files = scan_dir(relpath, str(path), cache)
        hash_files(files, state, progress, on_small, store_large)
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
    hash_files([observed], state, progress, on_small, store_large)
    return Observed("file", [observed])


def shares_inode_with_cache(f: ObservedFile, cache: Cache, oid: Oid) -> bool:
    try:
        return os.stat(cache.path(oid)).st_ino == f.st.st_ino and f.linked_oid is None
    except FileNotFoundError:
        return False


def object_executable(cache: Cache, oid: Oid) -> bool:
    return bool(os.stat(cache.path(oid)).st_mode & stat_mod.S_IXUSR)


_PROGRESS_WITHIN = 16 * 1024 * 1024  # files this large move the bar while they are stored


def store_observed(ws: Workspace, observed: Observed) -> None:
    """Put an observed output's files (and its manifest) into the cache."""
    link_types = ws.config.link_types
    linker = fsutil.Linker(tuple(t for t in link_types if t != "symlink") or ("copy",))
    absent = set(ws.cache.missing([f.oid for f in observed.files if f.oid]))
    missing: list[ObservedFile] = [f for f in observed.files if f.oid in absent]
    total = sum(f.st.st_size for f in missing)
    with ws.progress.task("Caching", total, unit="bytes") as task:
        for f in missing:
            assert f.oid is not None
            size, stat = f.st.st_size, f.st if f.settled else None
            if size < _PROGRESS_WITHIN:
                ws.cache.add_file(f.path, f.oid, linker, size, stat)
                task.advance(size)
                continue
            heard = [0]  # a large file's bar moves as its bytes are verified

            def advance(n: int, heard: list[int] = heard) -> None:
                heard[0] += n
                task.advance(n)

            ws.cache.add_file(f.path, f.oid, linker, size, stat, advance)
            task.advance(max(0, size - heard[0]))  # what was not hashed (e.g. a hardlink)
    if observed.manifest is not None:
        ws.cache.add_hashed_bytes(observed.manifest.render(), observed.manifest.oid())
    if link_types[0] == "symlink":
        for f in observed.files:
            if f.linked_oid is None and f.oid is not None:
                if object_executable(ws.cache, f.oid) != f.executable:
                    continue  # a symlink cannot carry its own executable bit: keep the file
                tmp = sibling_temp(f.path)
                os.symlink(ws.cache.path(f.oid), tmp)
                os.replace(tmp, f.path)
