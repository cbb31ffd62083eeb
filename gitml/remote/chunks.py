"""Large files in chunks (format 2, docs/spec/remote.md): FastCDC cuts a file into
content-defined chunks, the chunks the remote lacks go into packs, and
`chunks/blake3/<2>/<62>` lists the file's chunks in order. An edit in the middle of a
large file uploads a few new chunks, not the file.

Reading back streams the chunks in file order (consecutive chunks of one pack share a
ranged read), verifies each chunk, and lets the file into the cache only if the whole
file hashes to its id.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gitml.cache import Cache, object_relpath
from gitml.errors import IntegrityError, ObjectNotFoundError
from gitml.hashing import Oid, hash_bytes, hash_file, new_hasher
from gitml.packfile import parse_chunk_list, render_chunk_list
from gitml.remote import sizes
from gitml.remote.backend import Backend
from gitml.remote.failures import is_missing_bucket, named
from gitml.remote.layout import CHUNKS, PACKS, Layout
from gitml.remote.packs import Packs

# A chunk another group is packing: (chunk, offset in this file, length, set when done).
Wait = tuple[Oid, int, int, threading.Event]
# One ranged read of a pack: (pack id, start, end, [(chunk, length), ...] in file order).
Read = tuple[str, int, int, list[tuple[Oid, int]]]


class Chunks:
    def __init__(
        self, backend: Backend, layout: Layout, packs: Packs, large: threading.Semaphore
    ) -> None:
        self.backend = backend
        self.layout = layout
        self.packs = packs
        self.known: set[Oid] = set()  # files seen to have a chunk list
        self._large = large  # shared with the store's large loose transfers
        # Chunks being packed by this process (any file, any thread): set when the pack
        # holding the chunk is written, or when writing it failed. Two similar files
        # pushed at once (a model and the data it embeds) send their shared chunks once.
        self._claims: dict[Oid, threading.Event] = {}
        self._claims_lock = threading.Lock()

    def list_all(self) -> Iterator[Oid]:
        """Every large file with a chunk list (one listing of `chunks/`)."""
        with self.backend.errors("listing objects"):
            paths = self.backend.listing(self.layout.folder(CHUNKS), recursive=True)
        return self.layout.oids_from_paths(paths)

    def chunks_of(self, oid: Oid) -> list[Oid]:
        """The chunks a file's chunk list names (checked)."""
        name = f"{CHUNKS}/{object_relpath(oid)}"
        with self.backend.errors(f"downloading {name}"):
            data = self.backend.cat(self.layout.chunk_list_path(oid))
        what = f"chunk list {name} on remote '{self.backend.name}'"
        return [chunk for chunk, _ in parse_chunk_list(data, oid, what)]

    def remove_lists(self, oids: list[Oid]) -> None:
        with self.backend.errors("removing chunk lists"):
            self.backend.rm([self.layout.chunk_list_path(oid) for oid in oids])
        self.known -= set(oids)

    # Upload ------------------------------------------------------------------------------

    def upload(
        self,
        oid: Oid,
        source: str | Path,
        size: int,
        on_bytes: Callable[[int], None] | None = None,
        *,
        avg: int | None = None,
    ) -> None:
        """Cut the file with FastCDC, pack the chunks the remote lacks, then write the
        chunk list (only if the whole file hashed to `oid`). `on_bytes` hears of each
        group of chunks (about PACK_SIZE bytes) as it is packed or found on the remote.

        Nothing is read through Python buffers: threads cut windows of the mapped file
        (gitml.remote.cdc), then hash groups of chunks and write each group's new chunks
        as one pack straight from the mapping, while one thread hashes the whole file.
        `avg`: the FastCDC average (CHUNK_AVG for files; manifests use MANIFEST_CHUNK_AVG).
        """
        from concurrent.futures import ThreadPoolExecutor

        from gitml.remote import cdc

        self.packs.load()
        avg = avg or sizes.CHUNK_AVG
        path = os.fspath(source)
        fd = os.open(path, os.O_RDONLY)
        try:
            with ThreadPoolExecutor(sizes.CHUNK_THREADS) as pool:
                whole = pool.submit(hash_file, path, size)
                try:
                    points = cdc.cut_points(path, size, avg, lambda fn, xs: list(pool.map(fn, xs)))
                    groups = _groups(points, sizes.PACK_SIZE)
                    results = list(pool.map(lambda g: self._pack_group(fd, g, on_bytes), groups))
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
                actual = whole.result()
            if actual != oid:
                raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
            chunks = [chunk for result, _ in results for chunk in result]
            self._settle(fd, chunks, [wait for _, waits in results for wait in waits])
        finally:
            os.close(fd)
        with self.backend.errors(f"uploading the chunk list of {oid}"):
            self.backend.write(self.layout.chunk_list_path(oid), render_chunk_list(oid, chunks))
        self.known.add(oid)

    def _pack_group(
        self, fd: int, group: tuple[int, list[int]], on_bytes: Callable[[int], None] | None
    ) -> tuple[list[tuple[Oid, int]], list[Wait]]:
        """Hash one group of consecutive chunks and upload, as one pack, those neither on
        the remote nor claimed by another group. Returns the group's (chunk, length) and
        the chunks another group claimed (to wait for)."""
        from gitml.remote import cdc

        start, lengths = group
        chunks: list[tuple[Oid, int]] = []
        waits: list[Wait] = []
        done = threading.Event()
        with cdc.mapped(fd, start, start + sum(lengths)) as view:
            pieces = []
            offset = 0
            for length in lengths:
                piece = view[offset : offset + length]
                offset += length
                chunks.append((hash_bytes(piece), length))
                pieces.append(piece)
            try:
                new: list[int] = []
                with self._claims_lock:
                    for i, (chunk, length) in enumerate(chunks):
                        if self.packs.where(chunk) is not None:
                            continue
                        other = self._claims.get(chunk)
                        if other is None:
                            self._claims[chunk] = done
                            new.append(i)
                        elif other is not done:
                            waits.append((chunk, start + sum(lengths[:i]), length, other))
                if new:
                    self.packs.put_parts([pieces[i] for i in new], [chunks[i] for i in new])
            finally:
                done.set()
                with self._claims_lock:
                    for i in new:
                        del self._claims[chunks[i][0]]
                for piece in pieces:
                    piece.release()
        if on_bytes is not None:
            on_bytes(offset)
        return chunks, waits

    def _settle(self, fd: int, chunks: list[tuple[Oid, int]], waits: list[Wait]) -> None:
        """Wait for the chunks other groups were packing; pack those whose pack failed.
        Then the file's chunk list may go up: every chunk of it is in an indexed pack."""
        for _, _, _, event in waits:
            event.wait()
        todo = {chunk: (offset, length) for chunk, offset, length, _ in waits}
        todo = {c: span for c, span in todo.items() if self.packs.where(c) is None}
        for chunk, (offset, length) in todo.items():
            with open(fd, "rb", closefd=False) as stream:
                stream.seek(offset)
                self.packs.put(stream.read(length), [(chunk, length)])

    # Download ----------------------------------------------------------------------------

    def download(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str
    ) -> None:
        """Reassemble a chunked file in the cache's tmp/ (streaming, each chunk verified),
        and let it in only if the whole file hashes to `oid`."""
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        reads = self.reads(oid, label, size)
        hasher = new_hasher(size)
        tmp = cache.new_temp()
        slots = sizes.PACK_SLOTS
        try:
            with self._large, ThreadPoolExecutor(slots) as pool:
                window: deque[tuple[Future[bytes], Read]] = deque()
                queue = iter(reads)
                with open(tmp, "wb") as out:
                    while True:
                        while len(window) < slots and (nxt := next(queue, None)):
                            pack_id, start, end, _ = nxt
                            future = pool.submit(self.packs.read_range, pack_id, start, end)
                            window.append((future, nxt))
                        if not window:
                            break
                        future, read = window.popleft()
                        for piece in self.verified_pieces(future.result(), read, oid, label):
                            hasher.update(piece)
                            out.write(piece)
                            on_bytes(len(piece))
            actual = Oid(hasher.hexdigest())
            if actual != oid:
                raise IntegrityError(
                    f"{named(oid, label)} on remote '{self.backend.name}' is corrupt "
                    f"(its bytes hash to {actual}); not stored"
                )
            cache.add_verified_temp(tmp, oid)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def read_all(self, oid: Oid, label: str) -> bytes:
        """A chunked object's bytes in memory (a manifest: small), every chunk and the
        whole verified."""
        data = b"".join(self.fetch(read, oid, label) for read in self.reads(oid, label))
        actual = hash_bytes(data)
        if actual != oid:
            raise IntegrityError(
                f"{named(oid, label)} on remote '{self.backend.name}' is corrupt "
                f"(its chunks hash to {actual}); not stored"
            )
        self.known.add(oid)
        return data

    def open(self, oid: Oid, label: str) -> io.BufferedReader:
        """The file read front to back, one ranged read at a time, each chunk verified
        (the whole file is left to the caller to hash)."""
        reads = self.reads(oid, label)
        return io.BufferedReader(
            _ChunkStream(reads, lambda read: self.fetch(read, oid, label)), sizes.RANGE_MAX
        )

    def fetch(self, read: Read, oid: Oid, label: str) -> bytes:
        """The bytes of one ranged read, every chunk in it verified."""
        pack_id, start, end, _ = read
        data = self.packs.read_range(pack_id, start, end)
        for _ in self.verified_pieces(data, read, oid, label):
            pass
        return data

    def verified_pieces(
        self, data: bytes, read: Read, oid: Oid, label: str
    ) -> Iterator[memoryview]:
        """The chunks of one read, each checked against its id."""
        pack_id, _, _, members = read
        view = memoryview(data)
        for chunk, length in members:
            piece, view = view[:length], view[length:]
            hasher = new_hasher(0)
            hasher.update(piece)
            actual = Oid(hasher.hexdigest())
            if actual != chunk:
                raise IntegrityError(
                    f"chunk {chunk} of {named(oid, label)} in {PACKS}/{pack_id}.pack on "
                    f"remote '{self.backend.name}' is corrupt (its bytes hash to {actual}); "
                    "not stored"
                )
            yield piece

    def reads(self, oid: Oid, label: str, size: int | None = None) -> list[Read]:
        """A chunked file's ranged reads, in file order (checked chunk list)."""
        remote = self.backend.name
        what = f"chunk list {CHUNKS}/{object_relpath(oid)} on remote '{remote}'"
        with self.backend.errors(f"downloading the chunk list of {oid}"):
            try:
                listing = self.backend.cat(self.layout.chunk_list_path(oid))
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                raise ObjectNotFoundError(
                    f"{named(oid, label)} is not on remote '{remote}'"
                ) from None
        chunks = parse_chunk_list(listing, oid, what)
        if size is not None and sum(n for _, n in chunks) != size:
            raise IntegrityError(f"{what} does not add up to {size} bytes")
        # Consecutive chunks stored back to back in one pack share a ranged read.
        reads: list[Read] = []
        for chunk, length in chunks:
            where = self.packs.where(chunk)
            if where is None or where[2] != length:
                raise ObjectNotFoundError(
                    f"chunk {chunk} of {named(oid, label)} is not on remote '{remote}'"
                )
            pack_id, offset, _ = where
            if reads:
                last_pack, start, end, members = reads[-1]
                if (
                    last_pack == pack_id
                    and end == offset
                    and end + length - start <= sizes.RANGE_MAX
                ):
                    reads[-1] = (pack_id, start, end + length, [*members, (chunk, length)])
                    continue
            reads.append((pack_id, offset, offset + length, [(chunk, length)]))
        return reads


class _ChunkStream(io.RawIOBase):
    """A chunked file as a raw stream: `fetch` hands over one verified read at a time."""

    def __init__(self, reads: list[Read], fetch: Callable[[Read], bytes]) -> None:
        self._reads = iter(reads)
        self._fetch = fetch
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            nxt = next(self._reads, None)
            if nxt is None:
                return 0
            self._buffer = memoryview(self._fetch(nxt))
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _groups(points: list[int], pack_size: int) -> list[tuple[int, list[int]]]:
    """Chunk end offsets into groups of consecutive chunks of about `pack_size` bytes:
    (start offset, [chunk length, ...])."""
    groups: list[tuple[int, list[int]]] = []
    start = previous = 0
    lengths: list[int] = []
    for point in points:
        lengths.append(point - previous)
        previous = point
        if point - start >= pack_size:
            groups.append((start, lengths))
            start, lengths = point, []
    if lengths:
        groups.append((start, lengths))
    return groups
