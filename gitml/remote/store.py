"""`RemoteStore`: one remote as the use cases see it. It keeps the format marker itself,
finds where an object lives (pack, loose, chunks) and hands the work to the module of
that kind (`packs`, `loose`, `chunks`), and to `repack`, `dirs` and `runs`; what it may
do to the filesystem it asks the backend.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gitml.cache import Cache
from gitml.errors import (
    IntegrityError,
    ObjectNotFoundError,
    RemoteError,
    RemoteFormatError,
    RemoteNotFoundError,
)
from gitml.hashing import Oid, hash_bytes
from gitml.packfile import PackIndex
from gitml.remote import dirs, runs, sizes
from gitml.remote.backend import Backend, capabilities, connect
from gitml.remote.chunks import Chunks
from gitml.remote.config import RemoteConfig
from gitml.remote.failures import is_missing_bucket, retry_reads
from gitml.remote.layout import (
    CHUNKS,
    FORMAT,
    FORMAT_CHUNKED_MANIFESTS,
    FORMAT_MAX,
    MARKER,
    OBJECTS,
    Layout,
)
from gitml.remote.listing import list_ids, present_in
from gitml.remote.loose import Loose
from gitml.remote.packs import Failure, Packs
from gitml.remote.pool import Item
from gitml.remote.repack import repack


def open_remote(remote: RemoteConfig, workspace_root: Path, jobs: int | None = None) -> RemoteStore:
    """Build the store for a configured remote (no request is made yet)."""
    jobs = jobs or capabilities(remote.protocol).parallelism
    whole = remote.layout == "whole"
    fs, root, protocol = connect(remote, workspace_root, jobs)
    return RemoteStore(remote.name, fs, root, protocol, jobs, whole_objects=whole)


class RemoteStore:
    """Content-addressed objects below `root` on filesystem `fs` (docs/spec/remote.md)."""

    def __init__(
        self,
        name: str,
        fs: Any,
        root: str,
        protocol: str,
        jobs: int,
        *,
        whole_objects: bool = False,
    ) -> None:
        self.name = name
        # layout = "whole": every object is written loose (no packs, no chunks), so each
        # has a URL other tools can read (`object_url`, gitml.api.get_url).
        self.whole_objects = whole_objects
        self.fs = fs
        self.root = root
        self.protocol = protocol
        self.jobs = jobs
        self.backend = Backend(name, fs, root, protocol)
        self.caps = self.backend.caps
        self.layout = Layout(root)
        self._large = threading.BoundedSemaphore(sizes.LARGE_SLOTS)
        self._format_checked = False
        self._written_format: int | None = None
        self._marker_lock = threading.Lock()
        self.packs = Packs(self.backend, self.layout, jobs)
        self.chunks = Chunks(self.backend, self.layout, self.packs, self._large)
        self.loose = Loose(self.backend, self.layout, self._large)

    @property
    def read_only(self) -> bool:
        return self.caps.read_only

    @property
    def can_list(self) -> bool:
        return self.caps.can_list

    def attach_cache(self, cache: Cache) -> None:
        """Keep downloaded pack indexes (immutable) under the local cache."""
        key = hash_bytes(f"{self.protocol}://{self.root}".encode()).hexdigest[:32]
        self.packs.local_dir = Path(cache.root) / "remotes" / key

    def __repr__(self) -> str:
        return f"RemoteStore({self.name!r}, {self.protocol}, {self.root!r})"

    def object_path(self, oid: Oid) -> str:
        return self.layout.object_path(oid)

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Translate library exceptions raised while `what` into RemoteErrors."""
        return self.backend.errors(what)

    # Format marker -----------------------------------------------------------------------

    def read_format(self) -> int | None:
        """The format number in the marker, or None when the remote has no marker."""
        with self.errors("reading the format marker"):
            try:
                raw = retry_reads(lambda: self.fs.cat_file(self.layout.marker))
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                return None
        try:
            value = json.loads(raw)
            number = value["format"]
            if not isinstance(number, int) or isinstance(number, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise RemoteFormatError(
                f"remote '{self.name}': {MARKER} is malformed (expected {{\"format\": {FORMAT}}})"
            ) from None
        return number

    def check_format(self, *, must_exist: bool = False) -> None:
        """Fail clearly on a remote written by a newer gitml. No marker reads as format 1
        (an empty remote); with `must_exist`, a folder remote that is missing is an error."""
        if self._format_checked:
            return
        number = self.read_format()
        if number is None and must_exist and self.backend.root_is_missing():
            raise RemoteNotFoundError(f"remote '{self.name}': folder {self.root} does not exist")
        if number is not None and number > FORMAT_MAX:
            raise RemoteFormatError(
                f"remote '{self.name}' uses format {number}; this gitml reads formats 1 to "
                f"{FORMAT_MAX}",
                hint="upgrade gitml",
            )
        if number is not None and number < 1:
            raise RemoteFormatError(f"remote '{self.name}': unknown format {number}")
        self._format_checked = True

    def prepare_write(self) -> None:
        """Before the first upload: check the format and write the marker if missing."""
        if self.read_only:
            raise RemoteError(f"remote '{self.name}' ({self.protocol}://) is read-only")
        number = self.read_format()
        if number is None or number < FORMAT:  # upgrade: format 2 adds to format 1
            self._write_marker(FORMAT)
            number = FORMAT
        self._format_checked = False
        self.check_format()
        self._written_format = number

    def _write_marker(self, number: int) -> None:
        data = (json.dumps({"format": number}) + "\n").encode()
        with self.errors("writing the format marker"):
            self.backend.make_root()
            self.backend.write(self.layout.marker, data)

    def _require_format(self, number: int) -> None:
        """Raise the marker to `number` (never lower it) before writing what needs it."""
        with self._marker_lock:
            if self._written_format is not None and self._written_format >= number:
                return
            current = self.read_format() or 1
            if current < number:
                self._write_marker(number)
            self._written_format = max(current, number)

    # What is there -----------------------------------------------------------------------

    def present(self, oids: Collection[Oid]) -> set[Oid]:
        """Those of `oids` the remote holds, packed (one listing of `packs/` plus the
        indexes not cached yet), loose (one listing of `objects/` or of a few shards) or
        chunked (a listing of `chunks/`)."""
        if not oids:
            return set()
        self.check_format()
        packed = self.packs.all_packed()
        found = {oid for oid in oids if oid in packed}
        rest = set(oids) - found
        if rest:
            found |= self._present_in(OBJECTS, rest)
        rest -= found
        if rest and self.can_list:
            chunked = self._present_in(CHUNKS, rest)
            self.chunks.known |= chunked
            found |= chunked
        return found

    def present_for_upload(self, oids: Collection[Oid]) -> set[Oid]:
        """Those of `oids` a push need not send: as `present`, but on a remote that keeps
        whole objects only loose ones count (packed or chunked ones go up again, whole)."""
        if self.whole_objects:
            return self._present_in(OBJECTS, oids)
        return self.present(oids)

    def _present_in(self, folder: str, oids: Collection[Oid]) -> set[Oid]:
        if not oids:
            return set()
        self.check_format()
        return present_in(self.backend, self.layout, folder, oids, self.jobs)

    def iter_oids(self) -> Iterator[Oid]:
        """Every loose object in the store (one listing). Packed objects: `live_packs`;
        chunked files: `iter_chunked`."""
        self.check_format()
        return list_ids(self.backend, self.layout, OBJECTS)

    def iter_all_oids(self) -> set[Oid]:
        """Every object on the remote as `gc --remote` sees it: loose, packed, and large
        files with a chunk list (their chunks are not listed: `repack` keeps the chunks
        of kept files)."""
        self.check_format()
        chunked = set(self.iter_chunked())
        chunks: set[Oid] = set()
        for oid in sorted(chunked):
            chunks.update(self.chunks_of(oid))
        packed = self.packs.all_packed() - chunks
        return set(self.iter_oids()) | chunked | packed

    def object_url(self, oid: Oid, label: str = "") -> str:
        """The URL (a path, for a folder remote) of the object's whole bytes, which other
        tools can read. Only a loose object has one: the remote is asked whether it is
        there, and a packed or chunked object, or none at all, is an error saying so."""
        what = f"{label} ({oid})" if label else f"object {oid}"
        if self._present_in(OBJECTS, {oid}):
            return self.backend.url(self.object_path(oid))
        if oid not in self.present({oid}):
            raise ObjectNotFoundError(
                f"{what} is not on remote '{self.name}'", hint="upload it with 'gitml push'"
            )
        how = "inside a pack" if self.packs.where(oid) is not None else "as chunks"
        raise RemoteError(
            f"remote '{self.name}' stores {what} {how} (remote format 2), so it has no URL "
            "of its own",
            hint="read it with gitml.api.open() or gitml.api.read(); or make the remote keep "
            f"whole objects: gitml remote modify {self.name} layout whole, then gitml push",
        )

    # Objects: loose, packed or chunked -------------------------------------------------

    def upload(
        self,
        oid: Oid,
        source: str | Path,
        size: int,
        on_bytes: Callable[[int], None],
        *,
        chunk: bool = True,
    ) -> None:
        """Copy cache object `source` to the remote; its bytes must hash to `oid`. With
        `chunk`, a file of CHUNK_MIN bytes or more goes up as packed chunks."""
        if chunk and size >= sizes.CHUNK_MIN and not self.whole_objects:
            with self._large:
                self.chunks.upload(oid, source, size, on_bytes)
            return
        self.loose.upload(oid, source, size, on_bytes)

    def upload_manifest(
        self, oid: Oid, source: str | Path, size: int, on_bytes: Callable[[int], None]
    ) -> None:
        """A directory manifest of MANIFEST_CHUNK_MIN bytes or more: FastCDC chunks with a
        small average (format 3, docs/spec/remote.md), so a new version of a large
        directory uploads the manifest chunks that changed. Smaller ones: `upload`."""
        if size < sizes.MANIFEST_CHUNK_MIN or self.whole_objects:
            self.upload(oid, source, size, on_bytes, chunk=False)
            return
        self._require_format(FORMAT_CHUNKED_MANIFESTS)
        self.chunks.upload(oid, source, size, on_bytes, avg=sizes.MANIFEST_CHUNK_AVG)

    def remove(self, oids: Iterable[Oid]) -> None:
        """Delete the loose copies of objects (packed and chunked ones: `repack`). A
        caller deleting files of a directory must first delete that directory's `dirs/`
        record (`unmark_complete`)."""
        loose = self._present_in(OBJECTS, set(oids))
        if loose:
            with self.errors("removing objects"):
                self.backend.rm([self.object_path(oid) for oid in sorted(loose)])

    def read_object(self, oid: Oid, label: str = "") -> bytes:
        """A small object's bytes (e.g. a manifest), verified against its id: packed,
        loose, or (a large manifest, docs/spec/remote.md) reassembled from its chunks."""
        if self.packs.where(oid) is not None:
            return self.packs.read_object(oid, label)
        if oid in self.chunks.known:
            return self.chunks.read_all(oid, label)
        try:
            return self.loose.read(oid, label)
        except ObjectNotFoundError:
            return self.chunks.read_all(oid, label)

    def download(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str = ""
    ) -> None:
        """Fetch an object into the cache; it enters the cache only if its hash matches.
        Looks in the packs, for a loose object, then (for a large one) a chunk list.
        Fetching many small objects: `pack_batches` + `download_pack` read them together."""
        if self.packs.where(oid) is not None:
            failed = self.packs.download([Item(oid, size, label)], cache, on_bytes)
            if failed:
                raise IntegrityError(failed[0][1])
            return
        if oid in self.chunks.known:
            self.chunks.download(oid, size, cache, on_bytes, label)
            return
        try:
            self.loose.download(oid, size, cache, on_bytes, label)
        except ObjectNotFoundError:
            if size < sizes.PACK_MAX:
                raise
            self.chunks.download(oid, size, cache, on_bytes, label)

    def open_object(self, oid: Oid, label: str = "") -> Any:
        """A read stream of one object, in bounded blocks. Unverified: the caller hashes
        what it reads (gitml.remote.verified_stream); errors while reading go through
        `errors()`. Packed objects (< 1 MiB) come from one ranged read; chunked files
        stream chunk by chunk."""
        where = self.packs.where(oid)
        if where is not None:
            pack_id, offset, length = where
            return io.BytesIO(self.packs.read_range(pack_id, offset, offset + length))
        try:
            return self.loose.open(oid, label)
        except ObjectNotFoundError:
            return self.chunks.open(oid, label)

    # Packs, chunked files, gc ------------------------------------------------------------

    def pack_groups(self, items: Sequence[Item]) -> list[list[Item]]:
        return self.packs.groups(items)

    def upload_pack(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[Failure]:
        return self.packs.upload(items, cache, on_bytes)

    def pack_batches(self, items: Sequence[Item]) -> tuple[list[list[Item]], list[Item]]:
        return self.packs.batches(items)

    def download_pack(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[Failure]:
        return self.packs.download(items, cache, on_bytes)

    def live_packs(self) -> dict[str, PackIndex]:
        """Every pack with an index (for `gc --remote`)."""
        return self.packs.live()

    def packed(self, oids: Collection[Oid]) -> tuple[dict[str, list[Oid]], list[Oid]]:
        """`oids` grouped by the pack holding them, and those in no pack (`gitml verify`)."""
        return self.packs.by_pack(oids)

    def check_pack(self, pack_id: str, wanted: Collection[Oid]) -> list[tuple[Oid | None, str]]:
        return self.packs.check(pack_id, wanted)

    def iter_chunked(self) -> Iterator[Oid]:
        """Every large file with a chunk list (one listing of `chunks/`)."""
        self.check_format()
        return self.chunks.list_all()

    def chunks_of(self, oid: Oid) -> list[Oid]:
        return self.chunks.chunks_of(oid)

    def repack(self, keep: Collection[Oid]) -> tuple[int, int, int]:
        """`gc --remote` for format 2 (gitml.remote.repack). Returns (chunk lists removed,
        packs removed, packed objects dropped)."""
        self.check_format()
        return repack(self.packs, self.chunks, keep)

    # Directory records, run markers, small derived files ---------------------------------

    def complete_dirs(self, manifest_oids: Collection[Oid]) -> set[Oid]:
        """Those directory manifests whose files the remote is known to hold (`dirs/`).
        None on a remote that keeps whole objects: a record may vouch for packed files."""
        if not self.can_list or not manifest_oids or self.whole_objects:
            return set()
        self.check_format()
        return dirs.complete(self.backend, self.layout, manifest_oids, self.jobs)

    def iter_complete_dirs(self) -> Iterator[Oid]:
        """Every directory record (`dirs/`) on the remote (one listing)."""
        self.check_format()
        return dirs.iter_complete(self.backend, self.layout)

    def mark_complete(self, manifest_oid: Oid) -> None:
        """Record that the manifest and every file it lists are on the remote."""
        dirs.mark(self.backend, self.layout, manifest_oid)

    def unmark_complete(self, manifest_oids: Iterable[Oid]) -> None:
        dirs.unmark(self.backend, self.layout, manifest_oids)

    def run_markers(self, key: str | None = None) -> set[tuple[str, Oid]]:
        """(run key, entry object id) of every marker, or of one key's: one listing."""
        if not self.can_list:
            return set()
        self.check_format()
        return runs.markers(self.backend, self.layout, key)

    def add_run_marker(self, relpath: str) -> None:
        runs.add_marker(self.backend, self.layout, relpath)

    def list_files(self, folder: str) -> set[str]:
        """Paths (relative to the root) of every file below `folder`; none where the
        remote cannot list (data profiles: docs/spec/profile.md)."""
        if not self.can_list:
            return set()
        with self.errors(f"listing {folder}"):
            paths = self.backend.listing(self.layout.folder(folder), recursive=True)
        found = (self.layout.relative(p) for p in paths)
        return {p for p in found if p is not None}

    def write_file(self, relpath: str, data: bytes) -> None:
        with self.errors(f"writing {relpath}"):
            self.backend.write(self.layout.path(relpath), data)

    def read_file(self, relpath: str) -> bytes | None:
        """The bytes of a file below the root, or None when it is not there."""
        with self.errors(f"reading {relpath}"):
            try:
                return self.backend.cat(self.layout.path(relpath))
            except FileNotFoundError:
                return None
