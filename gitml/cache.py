"""The local content-addressed cache: `<cache>/blake3/<2 hex>/<62 hex>`.

Objects are immutable and read-only. Every write goes to `<cache>/tmp/` and is renamed
into place, so an interrupted write never leaves a partial object under a real id.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from gitml import fsutil
from gitml.errors import FormatError, IntegrityError, ObjectNotFoundError
from gitml.hashing import ALGORITHM, Oid, hash_bytes, hash_file, hex_digest, new_hasher
from gitml.manifest import Manifest, parse_manifest
from gitml.state import stat_key

_MANIFEST_IDS = re.compile(rb"^blake3:([0-9a-f]{64}) ", re.MULTILINE)
_COPY_CHUNK = 1024 * 1024
# From this size a copy is pumped through a few buffers of this size, hashed by one thread
# while another writes them (docs/design.md: "Hash and copy in one read").
_PIPE_MIN = 4 * 1024 * 1024
_PIPE_CHUNK = 4 * 1024 * 1024
_PIPE_BUFFERS = 4


def object_relpath(oid: Oid) -> str:
    """Layout shared by the cache and remotes."""
    return f"{ALGORITHM}/{oid.hexdigest[:2]}/{oid.hexdigest[2:]}"


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self._base = os.path.join(root, ALGORITHM)
        self._made_dirs: set[str] = set()
        # temp names as plain strings: a pathlib join per object cost 15 us
        self._tmp_base = str(fsutil.temp_name(self.tmp_dir)) + "-"
        self._temp_counter = itertools.count()

    def path(self, oid: Oid) -> str:
        hexdigest = oid.hexdigest
        return f"{self._base}/{hexdigest[:2]}/{hexdigest[2:]}"

    def exists(self, oid: Oid) -> bool:
        return os.path.exists(self.path(oid))

    def missing(self, oids: list[Oid]) -> list[Oid]:
        """Those of `oids` not in the cache; lists shard directories when asked about many."""
        absent = set(self._absent([oid.hexdigest for oid in oids]))
        return [oid for oid in oids if oid.hexdigest in absent]

    def has_manifest_objects(self, oid: Oid) -> bool:
        """Whether every file a cached manifest names is in the cache (on hex strings: no
        Oid objects for 20,000 entries)."""
        return not self._absent([h.decode() for h in _MANIFEST_IDS.findall(self.read_bytes(oid))])

    def shards_digest(self) -> tuple[str, int] | None:
        """A digest of the object directory and its shards' (name, inode, mtime), and the
        newest mtime: adding or removing an object changes it. None without a cache."""
        try:
            top = os.stat(self._base)
            with os.scandir(self._base) as entries:
                stats = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
        except (FileNotFoundError, NotADirectoryError):
            return None
        stats.append(("", top))
        lines = sorted(f"{name}\0{st.st_ino}\0{st.st_mtime_ns}\n" for name, st in stats)
        digest = hex_digest("".join(lines).encode("utf-8", "surrogateescape"))
        return digest, max(st.st_mtime_ns for _, st in stats)

    def _absent(self, hexdigests: list[str]) -> list[str]:
        if len(hexdigests) < 512:
            return [h for h in hexdigests if not os.path.exists(f"{self._base}/{h[:2]}/{h[2:]}")]
        present: set[str] = set()
        for shard in {h[:2] for h in hexdigests}:
            with contextlib.suppress(FileNotFoundError):
                present.update(shard + name for name in os.listdir(f"{self._base}/{shard}"))
        return [h for h in hexdigests if h not in present]

    def _ensure_dirs(self, oid: Oid) -> None:
        shard = oid.hexdigest[:2]
        if shard not in self._made_dirs:
            (self.root / ALGORITHM / shard).mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(shard)
        if "tmp" not in self._made_dirs:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add("tmp")

    def _commit_temp(self, tmp: str | Path, oid: Oid) -> None:
        """Rename a fully written, read-only, verified temp file into place (never overwrite)."""
        if not fsutil.rename_noreplace(str(tmp), self.path(oid)):
            os.unlink(tmp)  # already cached: the object there has these very bytes

    def add_verified_temp(self, tmp: Path, oid: Oid) -> None:
        """Move a temp file from `new_temp()` whose bytes the caller hashed to `oid` into place."""
        self._ensure_dirs(oid)
        fsutil.make_readonly(tmp)
        self._commit_temp(tmp, oid)

    def new_temp(self) -> Path:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return fsutil.temp_name(self.tmp_dir)

    def add_bytes(self, data: bytes, oid: Oid | None = None) -> Oid:
        actual = hash_bytes(data)
        if oid is not None and actual != oid:
            raise IntegrityError(f"object {oid} has content hashing to {actual}")
        self.add_hashed_bytes(data, actual)
        return actual

    def add_hashed_bytes(self, data: bytes, actual: Oid, *, checked: bool = False) -> None:
        """Store `data`, which the caller hashed to `actual` from this very buffer.

        `checked`: the caller knows the object is absent (or accepts writing a duplicate
        that is then dropped), which saves a stat per object when adding many files.
        """
        if not checked and self.exists(actual):
            return
        self._ensure_dirs(actual)
        tmp = f"{self._tmp_base}{next(self._temp_counter)}"
        try:
            with fsutil.translate_disk_full("the cache"):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                self._commit_temp(tmp, actual)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def add_file(
        self,
        source: str | Path,
        expected: Oid,
        linker: fsutil.Linker,
        size: int | None = None,
        hashed_stat: os.stat_result | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        """Store a workspace file already hashed to `expected`, unless the cache has it.
        `on_bytes` hears of a large file's bytes as they are verified (a progress bar).

        The stored copy (reflink/copy) is hashed again as it is written, so an object always
        matches its name even if the source changed after it was hashed. A hardlink shares
        the inode, so its stat is compared instead.
        """
        if self.exists(expected):
            return
        self._ensure_dirs(expected)
        for link_type in linker.candidates():
            tmp = fsutil.temp_name(self.tmp_dir)
            try:
                oid = self._store_as(
                    source, tmp, link_type, size, (expected, hashed_stat), on_bytes
                )
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                if linker.refused(link_type, exc):
                    continue
                raise
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            if oid != expected:
                os.unlink(tmp)
                raise IntegrityError(f"{source} changed while it was being added; add it again")
            self._commit_temp(tmp, oid)
            return
        raise OSError(f"no link type of {linker.link_types} could store {source}")

    def store_file(self, source: str, linker: fsutil.Linker, st: os.stat_result) -> Oid:
        """Store a workspace file that has not been hashed yet, reading its bytes once (a
        copy is hashed as it is written); returns the id of the stored bytes.

        `st`: the file's stat when it was listed; a file that changes before it is stored
        is refused, so an id is never recorded against a stat it was not hashed under.
        """
        for link_type in linker.candidates():
            tmp = fsutil.temp_name(self.tmp_dir)
            try:
                self.tmp_dir.mkdir(parents=True, exist_ok=True)
                oid = self._store_as(source, tmp, link_type, st.st_size, None)
                if oid is None or stat_key(os.stat(source)) != stat_key(st):
                    raise IntegrityError(f"{source} changed while it was being added; add it again")
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                if linker.refused(link_type, exc):
                    continue
                raise
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            self._ensure_dirs(oid)
            self._commit_temp(tmp, oid)
            return oid
        raise OSError(f"no link type of {linker.link_types} could store {source}")

    def _store_as(
        self,
        source: str | Path,
        tmp: Path,
        link_type: str,
        size: int | None,
        hashed: tuple[Oid, os.stat_result | None] | None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Oid | None:
        """Write `source` to a new read-only `tmp` with one link type; the id written.

        `hashed`: the id the caller computed (None: not hashed yet) and, if that hash was
        settled (outside the racy window), the file's stat then. A hardlink shares the
        inode, so a file whose stat has not changed since is not read a second time.
        """
        if link_type == "reflink":
            fsutil.reflink(source, tmp, 0o444)
            return hash_file(tmp, on_bytes=on_bytes)
        if link_type == "hardlink":
            before = os.stat(source)
            expected, hashed_stat = hashed or (None, None)
            if (
                expected is not None
                and hashed_stat is not None
                and (stat_key(hashed_stat) == stat_key(before))
            ):
                oid = expected
            else:
                oid = hash_file(source, before.st_size, on_bytes)
            os.link(source, tmp)
            fsutil.make_readonly(tmp)
            after = os.stat(tmp)
            same = (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)
            return oid if same else None
        return self._copy_hashing(source, tmp, size, on_bytes)

    def _copy_hashing(
        self,
        source: str | Path,
        tmp: Path,
        size: int | None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Oid:
        """Copy into a new read-only file and return the id of the bytes written: the
        source is read once, and every byte is hashed from the buffer it is written from."""
        with fsutil.translate_disk_full("the cache"):
            fin = os.open(source, os.O_RDONLY)
            try:
                fout = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
                try:
                    return _pump(
                        fin, fout, os.fstat(fin).st_size if size is None else size, on_bytes
                    )
                finally:
                    os.close(fout)
            finally:
                os.close(fin)

    def read_bytes(self, oid: Oid) -> bytes:
        try:
            with open(self.path(oid), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise ObjectNotFoundError(f"object {oid} is not in the cache") from None

    def load_manifest(self, oid: Oid) -> Manifest:
        data = self.read_bytes(oid)
        actual = hash_bytes(data)
        if actual != oid:
            self.quarantine(oid)
            raise IntegrityError(f"cache object {oid} is corrupt (hashes to {actual}); removed it")
        try:
            return parse_manifest(data, f"manifest {oid}")
        except FormatError:
            raise

    def verify(self, oid: Oid) -> bool:
        try:
            return hash_file(self.path(oid)) == oid
        except FileNotFoundError:
            return False

    def quarantine(self, oid: Oid) -> None:
        """Remove an object whose bytes no longer match its id."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(oid))

    def iter_oids(self) -> Iterator[Oid]:
        base = self.root / ALGORITHM
        if not base.is_dir():
            return
        for shard in os.scandir(base):
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for entry in os.scandir(shard.path):
                if len(entry.name) == 62:
                    with contextlib.suppress(FormatError):
                        yield Oid.from_hex(shard.name + entry.name)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _pipe(fin: int, fout: int, on_bytes: Callable[[int], None] | None = None) -> Oid:
    """Read into rotating buffers; this thread hashes each one while another writes the
    previous ones. Hashing (one BLAKE3 thread) and writing release the GIL, so a copy
    costs about the slower of the two rather than their sum."""
    import queue
    import threading

    hasher = new_hasher()  # one thread: the writer thread has the other core
    free: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
    for _ in range(_PIPE_BUFFERS):
        free.put(bytearray(_PIPE_CHUNK))
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            while (item := full.get()) is not None:
                buffer, n = item
                _write_all(fout, memoryview(buffer)[:n])
                free.put(buffer)
        except BaseException as exc:  # handed to the reading thread, raised there
            failed.append(exc)
            free.put(None)

    thread = threading.Thread(target=writer, name="gitml-copy", daemon=True)
    thread.start()
    try:
        while (buffer := free.get()) is not None:
            n = os.readv(fin, [buffer])
            if not n:
                break
            hasher.update(memoryview(buffer)[:n])
            full.put((buffer, n))
            if on_bytes is not None:
                on_bytes(n)
    finally:
        full.put(None)
        thread.join()
    if failed:
        raise failed[0]
    return Oid(hasher.hexdigest())


def _pump(fin: int, fout: int, size: int, on_bytes: Callable[[int], None] | None = None) -> Oid:
    if size >= _PIPE_MIN:
        return _pipe(fin, fout, on_bytes)
    if size < _COPY_CHUNK:
        data = os.read(fin, _COPY_CHUNK)
        view = memoryview(data)
        while view:
            view = view[os.write(fout, view) :]
        return hash_bytes(data)
    hasher = new_hasher(size)
    buffer = bytearray(_COPY_CHUNK)
    view = memoryview(buffer)
    while n := os.readv(fin, [buffer]):
        chunk = view[:n]
        hasher.update(chunk)
        while chunk:
            chunk = chunk[os.write(fout, chunk) :]
    return Oid(hasher.hexdigest())
