"""Remote object stores over fsspec: the only module that imports fsspec, s3fs or botocore
(lazily, inside functions: `import s3fs` alone costs ~0.3 s). Local folders go through
gitml.folder_fs (os/shutil) instead: they need no fsspec at all.

Layout (docs/spec/remote.md)::

    <root>/gitml-remote.json                          {"format": 2}
    <root>/objects/blake3/<2 hex>/<62 hex>            one object, raw bytes (format 1)
    <root>/packs/<pack id>.pack, .idx                 small objects and chunks, packed
    <root>/chunks/blake3/<2 hex>/<62 hex>             chunk list of a large file

Every library exception is translated here into a `RemoteError` subclass whose one-line
message names the remote.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import io
import json
import os
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gitml.cache import Cache, object_relpath
from gitml.errors import (
    FormatError,
    IntegrityError,
    ObjectNotFoundError,
    RemoteAuthError,
    RemoteError,
    RemoteFormatError,
    RemoteNotFoundError,
    RemotePermissionError,
    RemoteUnreachableError,
)
from gitml.hashing import ALGORITHM, Oid, hash_bytes, hash_file, new_hasher
from gitml.packfile import (
    PackIndex,
    check_pack_name,
    coalesce,
    parse_chunk_list,
    parse_index,
    render_chunk_list,
    render_index,
)
from gitml.remote_config import RemoteConfig, is_local_url
from gitml.transfer import Item

FORMAT = 2
MARKER = "gitml-remote.json"
OBJECTS = "objects"
PACKS = "packs"
CHUNKS = "chunks"
DIRS = "dirs"  # dirs/blake3/<2>/<62>: empty record "this manifest's files are all here"
RUNS = "runs"  # runs/<2>/<62>/<64 hex>: empty run-cache marker (key -> entry object)
TEMP_PREFIX = ".tmp-"

# Objects below SMALL_MAX move as one in-memory buffer (one request each, `jobs` at a
# time). Larger ones go up in parts of PART_SIZE with PART_CONCURRENCY parts in flight and
# come down as one streamed GET (64 KiB buffers; parallel ranged GETs were 4x slower on
# moto, docs/design.md), at most LARGE_SLOTS such files at a time: memory stays bounded
# (measured peak RSS 135 MiB pushing a 256 MiB file to S3, 101 MiB pulling it).
SMALL_MAX = 4 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
PART_CONCURRENCY = 4
GET_CONCURRENCY = 1
LARGE_SLOTS = 2
# Format 2 (docs/spec/remote.md): objects below PACK_MAX go up in packs of about PACK_SIZE;
# files of CHUNK_MIN or more are cut by FastCDC and their chunks packed. The environment
# variables exist for tests (small files, fast CI), not for users.
PACK_MAX = int(os.environ.get("GITML_REMOTE_PACK_MAX", 1024 * 1024))
PACK_SIZE = int(os.environ.get("GITML_REMOTE_PACK_SIZE", 16 * 1024 * 1024))
CHUNK_MIN = int(os.environ.get("GITML_REMOTE_CHUNK_MIN", 64 * 1024 * 1024))
CHUNK_AVG = 1024 * 1024  # FastCDC average; min = avg / 4, max = avg * 4 (docs/design.md)
# Reading a pack: whole when at least half its bytes are wanted, else ranges of wanted
# objects less than RANGE_GAP apart merged into reads of at most RANGE_MAX.
RANGE_GAP = 256 * 1024
RANGE_MAX = 16 * 1024 * 1024
PACK_SLOTS = 4  # packs built or read in memory at a time (16 MiB each)
CHUNK_UPLOADS = int(os.environ.get("GITML_REMOTE_CHUNK_UPLOADS", 2))  # packs of one file in flight
HASH_BATCH = 8 * 1024 * 1024  # chunks handed to the hashing thread at a time
HASH_BATCHES = 3
# Asking about few objects: list only their shards instead of the whole store.
PER_SHARD_MAX = 8

# Protocols whose single-object put is atomic (never a partial object under its name).
_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"}
_READ_ONLY = {"http", "https"}
_PACKAGES = {
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "ssh": "sshfs",
    "sftp": "paramiko",
    "http": "aiohttp",
    "https": "aiohttp",
}
_S3_TIMEOUTS = {
    "connect_timeout": 5,
    "read_timeout": 30,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
_S3_ENV_OVERRIDES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), ("endpoint_url",)),
    (("AWS_PROFILE",), ("profile",)),
    (("AWS_REGION", "AWS_DEFAULT_REGION"), ("region", "region_name")),
    (
        ("AWS_ACCESS_KEY_ID",),
        ("key", "secret", "token", "access_key_id", "secret_access_key", "session_token"),
    ),
)


def default_jobs(protocol: str) -> int:
    return 4 if protocol in ("file", "local", "memory") else 16


def _s3_kwargs(
    options: dict[str, Any], env: dict[str, str] | os._Environ[str], jobs: int
) -> dict[str, Any]:
    opts = dict(options)
    for env_names, keys in _S3_ENV_OVERRIDES:
        if any(env.get(n) for n in env_names):
            for key in keys:
                opts.pop(key, None)
    aliases = {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"}
    for alias, key in aliases.items():
        if alias in opts:
            opts[key] = opts.pop(alias)
    client_kwargs = dict(opts.pop("client_kwargs", {}) or {})
    for key in ("region", "region_name"):
        if key in opts:
            client_kwargs["region_name"] = opts.pop(key)
    # A fresh copy each time: botocore rewrites the nested `retries` dict in place.
    config_kwargs = {
        **copy.deepcopy(_S3_TIMEOUTS),
        "max_pool_connections": jobs + LARGE_SLOTS * PART_CONCURRENCY,
    }
    config_kwargs.update(opts.pop("config_kwargs", {}) or {})
    return {
        **opts,
        "client_kwargs": client_kwargs,
        "config_kwargs": config_kwargs,
        "skip_instance_cache": True,
        "use_listings_cache": False,
    }


def open_remote(remote: RemoteConfig, workspace_root: Path, jobs: int | None = None) -> RemoteStore:
    """Build the store for a configured remote (no request is made yet)."""
    protocol = remote.protocol
    jobs = jobs or default_jobs(protocol)
    with _translate(remote.name, "connecting"):
        try:
            if is_local_url(remote.url):
                return _local_store(remote, workspace_root, jobs)
            if protocol in ("s3", "s3a"):
                return _s3_store(remote, jobs)
            return _fsspec_store(remote, jobs)
        except ImportError as exc:
            package = _PACKAGES.get(protocol, "the fsspec implementation")
            raise RemoteError(
                f"remote '{remote.name}': {protocol}:// needs {package} (pip install {package})"
            ) from exc
        except ValueError as exc:
            if "Protocol not known" in str(exc):
                raise RemoteError(
                    f"remote '{remote.name}': unknown URL scheme {protocol}://"
                ) from None
            raise


def _local_store(remote: RemoteConfig, workspace_root: Path, jobs: int) -> RemoteStore:
    from gitml.folder_fs import FolderFS

    url = remote.url
    root = Path(url[len("file://") :] if url.startswith("file://") else url).expanduser()
    if not root.is_absolute():
        root = workspace_root / root
    return RemoteStore(remote.name, FolderFS(), os.path.normpath(root), "file", jobs)


def _s3_store(remote: RemoteConfig, jobs: int) -> RemoteStore:
    from gitml.s3_reads import S3FS, reader_for

    kwargs = _s3_kwargs(remote.options, os.environ, jobs)

    def s3fs_filesystem() -> Any:
        # Built on first use, inside whatever operation needs it: the same translation as
        # open_remote's, so a broken install or option is one line there too.
        with _translate(remote.name, "connecting"):
            try:
                import s3fs
            except ImportError as exc:
                raise RemoteError(
                    f"remote '{remote.name}': {remote.protocol}:// needs s3fs (pip install s3fs)"
                ) from exc
            fs = s3fs.S3FileSystem(**kwargs)
        fs.retries = 2  # s3fs retries stack on botocore's: fail fast when the endpoint is down
        return fs

    root = remote.url.split("://", 1)[1].rstrip("/")
    return RemoteStore(
        remote.name,
        S3FS(reader_for(kwargs, os.environ), s3fs_filesystem),
        root,
        remote.protocol,
        jobs,
    )


def _fsspec_store(remote: RemoteConfig, jobs: int) -> RemoteStore:
    import fsspec

    cls = fsspec.get_filesystem_class(remote.protocol)
    fs = cls(skip_instance_cache=True, **remote.options)
    if remote.protocol in _READ_ONLY:
        root = remote.url.rstrip("/")
    else:
        root = str(cls._strip_protocol(remote.url)).rstrip("/")
    return RemoteStore(remote.name, fs, root, remote.protocol, jobs)


class RemoteStore:
    """Content-addressed objects under `<root>/objects/`, reached through fsspec."""

    def __init__(self, name: str, fs: Any, root: str, protocol: str, jobs: int) -> None:
        self.name = name
        self.fs = fs
        self.root = root
        self.protocol = protocol
        self.jobs = jobs
        self.atomic_put = protocol in _ATOMIC_PUT
        self.read_only = protocol in _READ_ONLY
        self.can_list = protocol not in _READ_ONLY  # plain HTTP servers cannot list
        self._large = threading.BoundedSemaphore(LARGE_SLOTS)
        self._format_checked = False
        # Format 2: pack indexes (loaded once per process), where each packed object lives,
        # and large files known to have a chunk list.
        self._pack_slots = threading.BoundedSemaphore(PACK_SLOTS)
        self._index_lock = threading.RLock()
        self._packs_loaded = False
        self._packs: dict[str, PackIndex] = {}
        self._where: dict[Oid, tuple[str, int, int]] = {}
        self._chunked: set[Oid] = set()
        self.local_dir: Path | None = None  # <cache>/remotes/<id>: cached pack indexes

    def attach_cache(self, cache: Cache) -> None:
        """Keep downloaded pack indexes (immutable) under the local cache."""
        key = hash_bytes(f"{self.protocol}://{self.root}".encode()).hexdigest[:32]
        self.local_dir = Path(cache.root) / "remotes" / key

    def __repr__(self) -> str:
        return f"RemoteStore({self.name!r}, {self.protocol}, {self.root!r})"

    # Paths ------------------------------------------------------------------

    def object_path(self, oid: Oid) -> str:
        return f"{self.root}/{OBJECTS}/{object_relpath(oid)}"

    def _errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        return _translate(self.name, what, self.root)

    # Format marker ----------------------------------------------------------------

    def read_format(self) -> int | None:
        """The format number in the marker, or None when the remote has no marker."""
        with self._errors("reading the format marker"):
            try:
                raw = self.fs.cat_file(f"{self.root}/{MARKER}")
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
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
        if (
            number is None
            and must_exist
            and self.protocol == "file"
            and not os.path.isdir(self.root)
        ):
            raise RemoteNotFoundError(f"remote '{self.name}': folder {self.root} does not exist")
        if number is not None and number > FORMAT:
            raise RemoteFormatError(
                f"remote '{self.name}' uses format {number}; this gitml reads formats 1 and "
                f"{FORMAT}",
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
            data = (json.dumps({"format": FORMAT}) + "\n").encode()
            with self._errors("writing the format marker"):
                if self.protocol == "file":
                    os.makedirs(self.root, exist_ok=True)
                self._write(f"{self.root}/{MARKER}", data)
        self._format_checked = False
        self.check_format()

    # Listing ----------------------------------------------------------------------

    def present(self, oids: Collection[Oid]) -> set[Oid]:
        """Those of `oids` the remote holds, packed (one listing of `packs/` plus the
        indexes not cached yet), loose (one listing of `objects/` or of a few shards) or
        chunked (a listing of `chunks/`)."""
        if not oids:
            return set()
        self.check_format()
        self._load_packs()
        found = {oid for oid in oids if oid in self._where}
        rest = set(oids) - found
        if rest:
            found |= self._present_in(OBJECTS, rest)
        rest -= found
        if rest and self.can_list:
            chunked = self._present_in(CHUNKS, rest)
            self._chunked |= chunked
            found |= chunked
        return found

    def complete_dirs(self, manifest_oids: Collection[Oid]) -> set[Oid]:
        """Those directory manifests whose files the remote is known to hold (`dirs/`)."""
        if not self.can_list:
            return set()
        return self._present_in(DIRS, manifest_oids)

    def iter_complete_dirs(self) -> Iterator[Oid]:
        """Every directory record (`dirs/`) on the remote (one listing)."""
        self.check_format()
        return self._list(f"{self.root}/{DIRS}")

    def mark_complete(self, manifest_oid: Oid) -> None:
        """Record that the manifest and every file it lists are on the remote."""
        with self._errors("writing a directory record"):
            self._write(f"{self.root}/{DIRS}/{object_relpath(manifest_oid)}", b"")

    def _present_in(self, folder: str, oids: Collection[Oid]) -> set[Oid]:
        if not oids:
            return set()
        self.check_format()
        if not self.can_list:
            return self._present_one_by_one(oids)
        shards = {oid.hexdigest[:2] for oid in oids}
        if len(shards) <= PER_SHARD_MAX:
            found: set[Oid] = set()
            for shard in sorted(shards):
                found.update(self._list(f"{self.root}/{folder}/{ALGORITHM}/{shard}", ls=True))
        else:
            found = set(self._list(f"{self.root}/{folder}"))
        return found & set(oids)

    def iter_oids(self) -> Iterator[Oid]:
        """Every loose object in the store (one listing). Packed objects: `live_packs`;
        chunked files: `iter_chunked`."""
        self.check_format()
        return self._list(f"{self.root}/{OBJECTS}")

    def _list(self, prefix: str, ls: bool = False) -> Iterator[Oid]:
        with self._errors("listing objects"):
            paths = self._listing(prefix, recursive=not ls)
        return _oids_from_paths(paths)

    def _listing(self, path: str, *, recursive: bool = False) -> list[str]:
        """The paths in a remote folder (all below it with `recursive`); none while the
        folder does not exist yet. A missing bucket stays an error."""
        try:
            return list(self.fs.find(path) if recursive else self.fs.ls(path, detail=False))
        except FileNotFoundError as exc:
            if _is_missing_bucket(exc):
                raise
            return []

    def _present_one_by_one(self, oids: Collection[Oid]) -> set[Oid]:
        from concurrent.futures import ThreadPoolExecutor

        def has(oid: Oid) -> bool:
            with self._errors("checking objects"):
                return bool(self.fs.exists(self.object_path(oid)))

        with ThreadPoolExecutor(self.jobs) as pool:
            listed = list(oids)
            return {oid for oid, ok in zip(listed, pool.map(has, listed), strict=True) if ok}

    # Run-cache markers: runs/<key[:2]>/<key[2:]>/<entry hex> (docs/spec/run-cache.md) --

    def run_markers(self, key: str | None = None) -> set[tuple[str, Oid]]:
        """(run key, entry object id) of every marker, or of one key's: one listing.
        Remotes that cannot list (plain HTTP) report none."""
        if not self.can_list:
            return set()
        self.check_format()
        base = f"{self.root}/{RUNS}"
        with self._errors("listing the run-cache"):
            if key is None:
                paths = self._listing(base, recursive=True)
            else:
                paths = self._listing(f"{base}/{key[:2]}/{key[2:]}")
        return set(_markers_from_paths(paths))

    def add_run_marker(self, relpath: str) -> None:
        """Write one empty marker (`runcache.marker_relpath`); its objects must be here."""
        with self._errors("writing a run-cache marker"):
            self._write(f"{self.root}/{relpath}", b"")

    # Writing ----------------------------------------------------------------------

    def _write(self, path: str, data: bytes) -> None:
        """One object from memory: direct where puts are atomic, else temp name + rename."""
        if self.atomic_put:
            self.fs.pipe_file(path, data)
            return
        tmp = _temp_beside(path)
        try:
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

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
        if chunk and size >= CHUNK_MIN:
            with self._large:
                self._upload_chunked(oid, source, size)
            on_bytes(size)
            return
        target = self.object_path(oid)
        if size < SMALL_MAX:
            with open(source, "rb") as handle:
                data = handle.read()
            if hash_bytes(data) != oid:
                raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
            with self._errors(f"uploading {oid}"):
                self._write(target, data)
            on_bytes(len(data))
            return
        with self._large:
            self._upload_large(oid, source, target)
        on_bytes(size)

    def _upload_large(self, oid: Oid, source: str | Path, target: str) -> None:
        if self.atomic_put:
            if hash_file(source) != oid:
                raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
            with self._errors(f"uploading {oid}"):
                if self.protocol in ("s3", "s3a"):
                    self.fs.put_file(
                        str(source),
                        target,
                        chunksize=PART_SIZE,
                        max_concurrency=PART_CONCURRENCY,
                    )
                else:
                    self.fs.put_file(str(source), target)
            return
        tmp = _temp_beside(target)
        with self._errors(f"uploading {oid}"):
            try:
                self.fs.put_file(str(source), tmp)
                # Verify what landed, then rename: the name only ever holds good bytes.
                local = self.protocol == "file"
                landed = hash_file(tmp) if local else _hash_remote(self.fs, tmp)
                if landed != oid:
                    raise IntegrityError(
                        f"upload of {oid} to remote '{self.name}' arrived corrupt; not kept"
                    )
                self.fs.mv(tmp, target)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm_file(tmp)
                raise

    # Reading ----------------------------------------------------------------------

    def read_object(self, oid: Oid, label: str = "") -> bytes:
        """A small object's bytes (e.g. a manifest), verified against its id."""
        self._load_packs()
        if oid in self._where:
            return self._read_packed(oid, label)
        with self._errors(f"downloading {oid}"):
            try:
                if self.protocol in ("s3", "s3a"):  # one GET, no HEAD for the size first
                    data: bytes = self.fs.cat_file(self.object_path(oid), max_concurrency=1)
                else:
                    data = self.fs.cat_file(self.object_path(oid))
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                raise ObjectNotFoundError(
                    f"{_named(oid, label)} is not on remote '{self.name}'"
                ) from None
        self._verify(oid, hash_bytes(data), label)
        return data

    def download(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str = ""
    ) -> None:
        """Fetch an object into the cache; it enters the cache only if its hash matches.
        Looks in the packs, for a loose object, then (for a large one) a chunk list.
        Fetching many small objects: `pack_batches` + `download_pack` read them together."""
        self._load_packs()
        if oid in self._where:
            failed = self.download_pack([Item(oid, size, label)], cache, on_bytes)
            if failed:
                raise IntegrityError(failed[0][1])
            return
        if oid in self._chunked:
            self._download_chunked(oid, size, cache, on_bytes, label)
            return
        try:
            self._download_loose(oid, size, cache, on_bytes, label)
        except ObjectNotFoundError:
            if size < PACK_MAX:
                raise
            self._download_chunked(oid, size, cache, on_bytes, label)

    def _download_loose(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str
    ) -> None:
        if size < SMALL_MAX:
            data = self.read_object(oid, label)
            cache.add_bytes(data, oid)
            on_bytes(len(data))
            return
        with self._large:
            tmp = cache.new_temp()
            try:
                with self._errors(f"downloading {oid}"):
                    try:
                        if self.protocol in ("s3", "s3a"):
                            self.fs.get_file(
                                self.object_path(oid),
                                str(tmp),
                                chunksize=PART_SIZE,
                                max_concurrency=GET_CONCURRENCY,
                            )
                        else:
                            self.fs.get_file(self.object_path(oid), str(tmp))
                    except FileNotFoundError as exc:
                        if _is_missing_bucket(exc):
                            raise
                        raise ObjectNotFoundError(
                            f"{_named(oid, label)} is not on remote '{self.name}'"
                        ) from None
                self._verify(oid, hash_file(tmp), label)
                cache.add_verified_temp(tmp, oid)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        on_bytes(size)

    def _verify(self, oid: Oid, actual: Oid, label: str) -> None:
        if actual != oid:
            raise IntegrityError(
                f"{_named(oid, label)} on remote '{self.name}' is corrupt "
                f"(its bytes hash to {actual}); not stored"
            )

    def remove(self, oids: Iterable[Oid]) -> None:
        """Delete the loose copies of objects (packed and chunked ones: `repack`). A
        caller deleting files of a directory must first delete that directory's `dirs/`
        record (`unmark_complete`)."""
        loose = self._present_in(OBJECTS, set(oids))
        if loose:
            with self._errors("removing objects"):
                self.fs.rm([self.object_path(oid) for oid in sorted(loose)])

    def iter_all_oids(self) -> set[Oid]:
        """Every object on the remote as `gc --remote` sees it: loose, packed, and large
        files with a chunk list (their chunks are not listed: `repack` keeps the chunks
        of kept files)."""
        self.check_format()
        chunked = set(self.iter_chunked())
        chunks: set[Oid] = set()
        for oid in sorted(chunked):
            chunks.update(self.chunks_of(oid))
        self._load_packs()
        packed = set(self._where) - chunks
        return set(self.iter_oids()) | chunked | packed

    def open_object(self, oid: Oid, label: str = "") -> Any:
        """A read stream of one object, in bounded blocks. Unverified: the caller hashes
        what it reads (gitml.verified); errors while reading go through `errors()`.
        Packed objects (< 1 MiB) come from one ranged read; chunked files stream chunk
        by chunk."""
        self._load_packs()
        if oid in self._where:
            pack_id, offset, length = self._where[oid]
            return io.BytesIO(self._read_range(pack_id, offset, offset + length))
        try:
            return self._open_loose(oid, label)
        except ObjectNotFoundError:
            chunks = self._chunk_reads(oid, label)
            return io.BufferedReader(_ChunkStream(self, chunks, oid, label), RANGE_MAX)

    def _open_loose(self, oid: Oid, label: str) -> Any:
        with self._errors(f"opening {oid}"):
            try:
                if self.protocol in ("s3", "s3a"):
                    return self.fs.open(self.object_path(oid), "rb", block_size=PART_SIZE)
                return self.fs.open(self.object_path(oid), "rb")
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                raise ObjectNotFoundError(
                    f"{_named(oid, label)} is not on remote '{self.name}'"
                ) from None

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Translate library exceptions raised while `what` into RemoteErrors."""
        return self._errors(what)

    def object_url(self, oid: Oid) -> str:
        """Where the object lives: a URL, or an absolute path for a folder remote. A
        packed or chunked object has none of its own."""
        self._load_packs()
        if oid in self._where or oid in self._chunked:
            raise RemoteError(
                f"remote '{self.name}': object {oid} is stored inside a pack or in chunks "
                "(format 2), so it has no URL of its own"
            )
        path = self.object_path(oid)
        if self.protocol == "file" or "://" in path:
            return path
        return str(self.fs.unstrip_protocol(path))

    def unmark_complete(self, manifest_oids: Iterable[Oid]) -> None:
        with self._errors("removing directory records"):
            self.fs.rm([f"{self.root}/{DIRS}/{object_relpath(oid)}" for oid in manifest_oids])

    # Format 2: packs ------------------------------------------------------------------

    def _cat(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        if self.protocol in ("s3", "s3a"):  # one GET, no HEAD for the size first
            data: bytes = self.fs.cat_file(path, start=start, end=end, max_concurrency=1)
        else:
            data = self.fs.cat_file(path, start=start, end=end)
        return data

    def _pack_path(self, pack_id: str, ext: str) -> str:
        return f"{self.root}/{PACKS}/{pack_id}.{ext}"

    def _load_packs(self) -> None:
        """List `packs/` once and read every index not read yet (cached locally)."""
        from concurrent.futures import ThreadPoolExecutor

        with self._index_lock:
            if self._packs_loaded:
                return
            with self._errors("listing packs"):
                try:
                    names = self._listing(f"{self.root}/{PACKS}")
                except Exception:
                    if self.can_list:
                        raise
                    names = []  # an HTTP server without directory pages: loose objects only
            ids = [check_pack_name(str(n).rstrip("/").rsplit("/", 1)[-1]) for n in names]
            todo = []
            for pack_id in ids:
                if pack_id is None or pack_id in self._packs:
                    continue
                cached = self._cached_index(pack_id)
                if cached is None:
                    todo.append(pack_id)
                else:
                    self._register(cached)  # in this thread: a pool costs more than parsing
            with ThreadPoolExecutor(max(1, min(self.jobs, len(todo)))) as pool:
                for index in pool.map(self._read_index, todo):
                    self._register(index)
            self._packs_loaded = True

    def _register(self, index: PackIndex) -> None:
        with self._index_lock:
            self._packs[index.pack_id] = index
            for oid, (offset, length) in index.entries.items():
                self._where.setdefault(oid, (index.pack_id, offset, length))

    def _local_index(self, pack_id: str) -> Path | None:
        return self.local_dir / "idx" / f"{pack_id}.idx" if self.local_dir else None

    def _cached_index(self, pack_id: str) -> PackIndex | None:
        """The index as downloaded before (checked again), or None."""
        local = self._local_index(pack_id)
        if local is None:
            return None
        what = f"pack index {PACKS}/{pack_id}.idx on remote '{self.name}' (cached)"
        try:
            return parse_index(local.read_bytes(), pack_id, what)
        except (IntegrityError, OSError):
            return None

    def _read_index(self, pack_id: str) -> PackIndex:
        """Download an index not cached locally (`_load_packs` looked), check and cache it."""
        name = f"{PACKS}/{pack_id}.idx"
        what = f"pack index {name} on remote '{self.name}'"
        with self._errors(f"downloading {name}"):
            data = self._cat(self._pack_path(pack_id, "idx"))
        try:
            index = parse_index(data, pack_id, what)
        except IntegrityError as exc:
            raise IntegrityError(
                str(exc),
                hint=f"delete {name} (and {PACKS}/{pack_id}.pack) from the remote; "
                "pushing again uploads their objects anew",
            ) from None
        self._save_index(pack_id, data)
        return index

    def _save_index(self, pack_id: str, data: bytes) -> None:
        local = self._local_index(pack_id)
        if local is None:
            return
        with contextlib.suppress(OSError):
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
            tmp.write_bytes(data)
            os.replace(tmp, local)

    def pack_groups(self, items: Sequence[Item]) -> list[list[Item]]:
        """Split small objects, in the given (manifest) order, into packs of ~PACK_SIZE."""
        groups: list[list[Item]] = []
        size = PACK_SIZE
        for item in items:
            if size + item.size > PACK_SIZE and size:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += item.size
        return groups

    def upload_pack(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[tuple[Item, str]]:
        """Upload cache objects as one pack, then its index. Returns the objects left out
        (corrupt or vanished from the cache) with the reason."""
        failed: list[tuple[Item, str]] = []
        parts: list[bytes] = []
        entries: list[tuple[Oid, int]] = []
        with self._pack_slots:
            for item in items:
                try:
                    with open(cache.path(item.oid), "rb") as handle:
                        data = handle.read()
                except FileNotFoundError:
                    failed.append((item, f"{_named(item.oid, item.label)} is not in the cache"))
                    continue
                if hash_bytes(data) != item.oid:
                    failed.append((item, f"cache object {item.oid} is corrupt; not uploading it"))
                    continue
                parts.append(data)
                entries.append((item.oid, len(data)))
            if entries:
                self._put_pack(b"".join(parts), entries)
        on_bytes(sum(n for _, n in entries))
        return failed

    def _put_pack(self, data: bytes, entries: Sequence[tuple[Oid, int]]) -> None:
        """The pack first, then its index: an index on the remote means a complete pack."""
        import blake3

        pack_id = blake3.blake3(data).hexdigest()
        index = render_index(pack_id, entries)
        with self._errors(f"uploading pack {pack_id}"):
            self._write(self._pack_path(pack_id, "pack"), data)
            self._write(self._pack_path(pack_id, "idx"), index)
        self._save_index(pack_id, index)
        self._register(parse_index(index, pack_id, "new pack index"))

    def pack_batches(self, items: Sequence[Item]) -> tuple[list[list[Item]], list[Item]]:
        """Items grouped by the pack holding them, and the items in no pack."""
        self._load_packs()
        by_pack: dict[str, list[Item]] = {}
        rest: list[Item] = []
        for item in items:
            where = self._where.get(item.oid)
            if where is None:
                rest.append(item)
            else:
                by_pack.setdefault(where[0], []).append(item)
        return list(by_pack.values()), rest

    def download_pack(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[tuple[Item, str]]:
        """Fetch objects of one pack into the cache: the whole pack in one GET when at
        least half of it is wanted, else merged ranges. Every object is verified."""
        pack_id = self._where[items[0].oid][0]
        index = self._packs[pack_id]
        spans = [index.entries[i.oid] for i in items]
        if 2 * sum(n for _, n in spans) >= index.size:
            reads = [(0, index.size, list(range(len(items))))]
        else:
            reads = coalesce(spans, RANGE_GAP, RANGE_MAX)
        name = f"{PACKS}/{pack_id}.pack"
        failed: list[tuple[Item, str]] = []
        with self._pack_slots:
            for start, end, members in reads:
                data = self._read_range(pack_id, start, end)
                for i in members:
                    item, (offset, length) = items[i], spans[i]
                    blob = data[offset - start : offset - start + length]
                    actual = hash_bytes(blob)
                    if actual != item.oid:
                        failed.append(
                            (
                                item,
                                f"{_named(item.oid, item.label)} in {name} on remote "
                                f"'{self.name}' is corrupt (its bytes hash to {actual}); "
                                "not stored",
                            )
                        )
                        continue
                    cache.add_bytes(blob, item.oid)
                    on_bytes(length)
        return failed

    def _read_range(self, pack_id: str, start: int, end: int) -> bytes:
        name = f"{PACKS}/{pack_id}.pack"
        with self._errors(f"downloading {name}"):
            try:
                data = self._cat(self._pack_path(pack_id, "pack"), start, end)
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                raise RemoteError(
                    f"remote '{self.name}': {name} is missing although its index is there"
                ) from None
        if len(data) != end - start:
            raise IntegrityError(f"{name} on remote '{self.name}' is truncated")
        return data

    def _read_packed(self, oid: Oid, label: str) -> bytes:
        pack_id, offset, length = self._where[oid]
        data = self._read_range(pack_id, offset, offset + length)
        actual = hash_bytes(data)
        if actual != oid:
            raise IntegrityError(
                f"{_named(oid, label)} in {PACKS}/{pack_id}.pack on remote '{self.name}' is "
                f"corrupt (its bytes hash to {actual}); not stored"
            )
        return data

    def live_packs(self) -> dict[str, PackIndex]:
        """Every pack with an index (for `gc --remote`)."""
        self._load_packs()
        return dict(self._packs)

    def iter_chunked(self) -> Iterator[Oid]:
        """Every large file with a chunk list (one listing of `chunks/`)."""
        self.check_format()
        return self._list(f"{self.root}/{CHUNKS}")

    def chunks_of(self, oid: Oid) -> list[Oid]:
        """The chunks a file's chunk list names (checked)."""
        name = f"{CHUNKS}/{object_relpath(oid)}"
        with self._errors(f"downloading {name}"):
            data = self._cat(self._chunk_list_path(oid))
        what = f"chunk list {name} on remote '{self.name}'"
        return [chunk for chunk, _ in parse_chunk_list(data, oid, what)]

    def repack(self, keep: Collection[Oid]) -> tuple[int, int, int]:
        """`gc --remote` for format 2 (docs/spec/remote.md, steps 1-3). `keep`: the live
        files and manifests. Chunk lists of files not kept are deleted, chunks of kept
        files are kept; every pack holding an object not kept is replaced by new packs
        of its kept objects (verified), written pack then index; only then is the old
        `.idx` deleted, then the old `.pack`. Loose objects and `dirs/` records are
        the caller's (`iter_oids`, `remove`, `unmark_complete`).
        Returns (chunk lists removed, packs removed, packed objects dropped)."""
        wanted = set(keep)
        chunked = set(self.iter_chunked())
        for oid in sorted(chunked & wanted):
            wanted.update(self.chunks_of(oid))
        dead_lists = sorted(chunked - wanted)
        if dead_lists:
            with self._errors("removing chunk lists"):
                self.fs.rm([self._chunk_list_path(oid) for oid in dead_lists])
            self._chunked -= set(dead_lists)
        packs, dropped = self._repack(wanted)
        return len(dead_lists), packs, dropped

    def _repack(self, wanted: set[Oid]) -> tuple[int, int]:
        self._load_packs()
        doomed = [
            index
            for index in self._packs.values()
            if any(oid not in wanted for oid in index.entries)
        ]
        dropped = 0
        for index in doomed:
            live = [(oid, span) for oid, span in index.entries.items() if oid in wanted]
            dropped += len(index.entries) - len(live)
            if not live:
                continue
            data = self._read_range(index.pack_id, 0, index.size)
            parts: list[bytes] = []
            entries: list[tuple[Oid, int]] = []
            for oid, (offset, length) in live:
                blob = data[offset : offset + length]
                if hash_bytes(blob) != oid:
                    raise IntegrityError(
                        f"object {oid} in {PACKS}/{index.pack_id}.pack on remote "
                        f"'{self.name}' is corrupt; not repacking that pack"
                    )
                parts.append(blob)
                entries.append((oid, length))
                if sum(n for _, n in entries) >= PACK_SIZE:
                    self._put_pack(b"".join(parts), entries)
                    parts, entries = [], []
            if entries:
                self._put_pack(b"".join(parts), entries)
        for index in doomed:
            with self._errors(f"removing pack {index.pack_id}"):
                self.fs.rm_file(self._pack_path(index.pack_id, "idx"))
                self.fs.rm_file(self._pack_path(index.pack_id, "pack"))
            with self._index_lock:
                del self._packs[index.pack_id]
        with self._index_lock:
            self._where = {}
            for index in list(self._packs.values()):
                self._register(index)
        return len(doomed), dropped

    # Verification (`gitml verify`) -----------------------------------------------------

    def packed(self, oids: Collection[Oid]) -> tuple[dict[str, list[Oid]], list[Oid]]:
        """`oids` grouped by the pack holding them, and those in no pack."""
        batches, rest = self.pack_batches([Item(oid, 0, "") for oid in oids])
        groups = {self._where[batch[0].oid][0]: [i.oid for i in batch] for batch in batches}
        return groups, [i.oid for i in rest]

    def check_pack(self, pack_id: str, wanted: Collection[Oid]) -> list[tuple[Oid | None, str]]:
        """Read a pack and its index again from the remote (not the local index copy): the
        index must be intact, the pack must hash to its name and each of `wanted` to its
        id. Problems as (object, reason); object None for the pack or index as a whole."""
        name = f"{PACKS}/{pack_id}"
        problems: list[tuple[Oid | None, str]] = []
        index = self._packs[pack_id]
        with self._errors(f"downloading {name}.idx"):
            try:
                raw = self._cat(self._pack_path(pack_id, "idx"))
            except FileNotFoundError:
                raw = None
                problems.append((None, f"{name}.idx is missing on remote '{self.name}'"))
        if raw is not None:
            try:
                parse_index(raw, pack_id, f"pack index {name}.idx on remote '{self.name}'")
            except IntegrityError as exc:
                problems.append((None, exc.message))
        with self._errors(f"downloading {name}.pack"):
            try:
                data = self._cat(self._pack_path(pack_id, "pack"))
            except FileNotFoundError:
                missing = f"{name}.pack is missing on remote '{self.name}'"
                return [*problems, *((oid, missing) for oid in wanted)]
        actual = hash_bytes(data)
        if actual.hexdigest != pack_id:
            problems.append(
                (None, f"{name}.pack on remote '{self.name}' is corrupt (hashes to {actual})")
            )
        for oid in wanted:
            offset, length = index.entries[oid]
            blob = data[offset : offset + length]
            if len(blob) != length or hash_bytes(blob) != oid:
                problems.append((oid, f"{oid} in {name}.pack on remote '{self.name}' is corrupt"))
        return problems

    # Format 2: chunks of large files -------------------------------------------------

    def _chunk_list_path(self, oid: Oid) -> str:
        return f"{self.root}/{CHUNKS}/{object_relpath(oid)}"

    def _upload_chunked(self, oid: Oid, source: str | Path, size: int) -> None:
        """Cut the file with FastCDC, pack the chunks the remote lacks, then write the
        chunk list (only if the whole file hashed to `oid`).

        Three stages overlap: this thread cuts, one worker hashes (chunk ids and the whole
        file, in order; BLAKE3 releases the GIL), the pool uploads packs. At most
        HASH_BATCHES batches and CHUNK_UPLOADS packs are in memory at a time.
        """
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        from pyfastcdc import FastCDC

        self._load_packs()
        cdc = FastCDC(CHUNK_AVG, min_size=CHUNK_AVG // 4, max_size=CHUNK_AVG * 4)
        # One thread: the hashing thread is the parallelism here (0.69 vs 0.86 s/GiB).
        hasher = new_hasher(0)
        chunks: list[tuple[Oid, int]] = []
        pending: set[Oid] = set()
        parts: list[bytes] = []
        entries: list[tuple[Oid, int]] = []
        packed_bytes = 0
        inflight: set[Future[None]] = set()
        hashing: deque[tuple[Future[list[Oid]], list[bytes]]] = deque()

        def hash_batch(batch: list[bytes]) -> list[Oid]:
            ids = []
            for data in batch:
                hasher.update(data)
                ids.append(hash_bytes(data))
            return ids

        def flush() -> None:
            nonlocal parts, entries, packed_bytes
            if len(inflight) >= CHUNK_UPLOADS:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    inflight.discard(future)
                    future.result()
            inflight.add(uploads.submit(self._put_pack, b"".join(parts), entries))
            parts, entries, packed_bytes = [], [], 0

        def collect() -> None:
            nonlocal packed_bytes
            future, batch = hashing.popleft()
            for chunk, data in zip(future.result(), batch, strict=True):
                chunks.append((chunk, len(data)))
                if chunk in self._where or chunk in pending:
                    continue
                pending.add(chunk)
                parts.append(data)
                entries.append((chunk, len(data)))
                packed_bytes += len(data)
                if packed_bytes >= PACK_SIZE:
                    flush()

        # cut_stream reads through a bounded buffer; cut_file maps the whole file, whose
        # pages then count in the process's RSS (1.3 GiB for a 1 GiB push).
        with (
            ThreadPoolExecutor(CHUNK_UPLOADS) as uploads,
            ThreadPoolExecutor(1) as hash_worker,
            open(source, "rb", buffering=0) as stream,
        ):
            try:
                batch: list[bytes] = []
                batch_bytes = 0
                for piece in cdc.cut_stream(stream):
                    batch.append(bytes(piece.data))  # piece.data is reused by the next cut
                    batch_bytes += piece.length
                    if batch_bytes >= HASH_BATCH:
                        hashing.append((hash_worker.submit(hash_batch, batch), batch))
                        batch, batch_bytes = [], 0
                        if len(hashing) >= HASH_BATCHES:
                            collect()
                if batch:
                    hashing.append((hash_worker.submit(hash_batch, batch), batch))
                while hashing:
                    collect()
                if entries:
                    flush()
                for future in inflight:
                    future.result()
            except BaseException:
                for upload in inflight:
                    upload.cancel()
                for hashed, _ in hashing:
                    hashed.cancel()
                raise
        if Oid(hasher.hexdigest()) != oid:
            raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
        with self._errors(f"uploading the chunk list of {oid}"):
            self._write(self._chunk_list_path(oid), render_chunk_list(oid, chunks))
        self._chunked.add(oid)

    def _download_chunked(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str
    ) -> None:
        """Reassemble a chunked file in the cache's tmp/ (streaming, each chunk verified),
        and let it in only if the whole file hashes to `oid`."""
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        reads = self._chunk_reads(oid, label, size)
        hasher = new_hasher(size)
        tmp = cache.new_temp()
        try:
            with self._large, ThreadPoolExecutor(PACK_SLOTS) as pool:
                window: deque[tuple[Future[bytes], list[tuple[Oid, int]], str]] = deque()
                queue = iter(reads)
                with open(tmp, "wb") as out:
                    while True:
                        while len(window) < PACK_SLOTS and (nxt := next(queue, None)):
                            pack_id, start, end, members = nxt
                            future = pool.submit(self._read_range, pack_id, start, end)
                            window.append((future, members, pack_id))
                        if not window:
                            break
                        future, members, pack_id = window.popleft()
                        for piece in self._split_chunks(
                            future.result(), members, pack_id, oid, label
                        ):
                            hasher.update(piece)
                            out.write(piece)
                            on_bytes(len(piece))
            self._verify(oid, Oid(hasher.hexdigest()), label)
            cache.add_verified_temp(tmp, oid)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _split_chunks(
        self, data: bytes, members: list[tuple[Oid, int]], pack_id: str, oid: Oid, label: str
    ) -> Iterator[memoryview]:
        """The verified chunks of one read."""
        view = memoryview(data)
        for chunk, length in members:
            piece, view = view[:length], view[length:]
            actual = _hash_view(piece)
            if actual != chunk:
                raise IntegrityError(
                    f"chunk {chunk} of {_named(oid, label)} in {PACKS}/{pack_id}.pack on "
                    f"remote '{self.name}' is corrupt (its bytes hash to {actual}); not stored"
                )
            yield piece

    def _chunk_reads(
        self, oid: Oid, label: str, size: int | None = None
    ) -> list[tuple[str, int, int, list[tuple[Oid, int]]]]:
        """A chunked file's ranged reads, in file order (checked chunk list)."""
        what = f"chunk list {CHUNKS}/{object_relpath(oid)} on remote '{self.name}'"
        with self._errors(f"downloading the chunk list of {oid}"):
            try:
                listing = self._cat(self._chunk_list_path(oid))
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                raise ObjectNotFoundError(
                    f"{_named(oid, label)} is not on remote '{self.name}'"
                ) from None
        chunks = parse_chunk_list(listing, oid, what)
        if size is not None and sum(n for _, n in chunks) != size:
            raise IntegrityError(f"{what} does not add up to {size} bytes")
        self._load_packs()
        # Consecutive chunks stored back to back in one pack share a ranged read.
        reads: list[tuple[str, int, int, list[tuple[Oid, int]]]] = []
        for chunk, length in chunks:
            where = self._where.get(chunk)
            if where is None or where[2] != length:
                raise ObjectNotFoundError(
                    f"chunk {chunk} of {_named(oid, label)} is not on remote '{self.name}'"
                )
            pack_id, offset, _ = where
            if reads:
                last_pack, start, end, members = reads[-1]
                if last_pack == pack_id and end == offset and end + length - start <= RANGE_MAX:
                    reads[-1] = (pack_id, start, end + length, [*members, (chunk, length)])
                    continue
            reads.append((pack_id, offset, offset + length, [(chunk, length)]))
        return reads


# Helpers ----------------------------------------------------------------------------


class _ChunkStream(io.RawIOBase):
    """A chunked file read front to back, one ranged read (<= RANGE_MAX) at a time; each
    chunk is verified, the whole file is left to the caller to hash."""

    def __init__(
        self,
        store: RemoteStore,
        reads: list[tuple[str, int, int, list[tuple[Oid, int]]]],
        oid: Oid,
        label: str,
    ) -> None:
        self._store = store
        self._reads = iter(reads)
        self._oid = oid
        self._label = label
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            nxt = next(self._reads, None)
            if nxt is None:
                return 0
            pack_id, start, end, members = nxt
            data = self._store._read_range(pack_id, start, end)
            for _ in self._store._split_chunks(data, members, pack_id, self._oid, self._label):
                pass
            self._buffer = memoryview(data)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _hash_view(data: memoryview) -> Oid:
    import blake3

    return Oid(blake3.blake3(data).hexdigest())


def _named(oid: Oid, label: str) -> str:
    return f"object {oid} ({label})" if label else f"object {oid}"


def _temp_beside(path: str) -> str:
    head, _, _ = path.rpartition("/")
    return f"{head}/{TEMP_PREFIX}{uuid.uuid4().hex}"


def _hash_remote(fs: Any, path: str) -> Oid:
    from gitml.hashing import hash_stream

    with fs.open(path, "rb") as stream:
        return hash_stream(stream)[0]


def _oids_from_paths(paths: Iterable[str]) -> Iterator[Oid]:
    for path in paths:
        parts = str(path).rstrip("/").rsplit("/", 3)
        if len(parts) < 3:
            continue
        algorithm, shard, rest = parts[-3], parts[-2], parts[-1]
        if algorithm != ALGORITHM or len(shard) != 2 or len(rest) != 62:
            continue
        with contextlib.suppress(FormatError):
            yield Oid.from_hex(shard + rest)


def _markers_from_paths(paths: Iterable[str]) -> Iterator[tuple[str, Oid]]:
    hexdigits = set("0123456789abcdef")
    for path in paths:
        parts = str(path).rstrip("/").rsplit("/", 3)
        if len(parts) < 3:
            continue
        key = parts[-3] + parts[-2]
        if len(parts[-3]) != 2 or len(key) != 64 or not set(key) <= hexdigits:
            continue
        with contextlib.suppress(FormatError):
            yield key, Oid.from_hex(parts[-1])


def _is_missing_bucket(exc: BaseException) -> bool:
    cause = exc.__cause__
    code = _error_code(cause) if cause is not None else None
    return code == "NoSuchBucket" or "bucket does not exist" in str(exc).lower()


def _error_code(exc: BaseException | None) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        if isinstance(error, dict):
            code = error.get("Code")
            return str(code) if code is not None else None
    return None


_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestTimeTooSkewed",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}


_FULL = (errno.ENOSPC, errno.EDQUOT)


def translate(name: str, what: str, exc: BaseException, where: str = "") -> RemoteError | None:
    """Map a library exception to a one-line RemoteError naming the remote (None: not ours)."""
    if isinstance(exc, RemoteError):
        return exc
    chain: list[BaseException] = []
    probe: BaseException | None = exc
    while probe is not None and probe not in chain:
        chain.append(probe)
        probe = probe.__cause__ or probe.__context__
    names = {base.__name__ for e in chain for base in type(e).__mro__}
    codes = {c for c in (_error_code(e) for e in chain) if c}
    if names & {
        "NoCredentialsError",
        "PartialCredentialsError",
        "ProfileNotFound",
        "NoAuthTokenError",
        "CredentialRetrievalError",
    }:
        return RemoteAuthError(
            f"remote '{name}': no usable credentials ({_first_line(exc)})",
            hint=f"set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or "
            f"'gitml remote modify --local {name} profile NAME'",
        )
    if codes & _AUTH_CODES:
        code = sorted(codes & _AUTH_CODES)[0]
        return RemoteAuthError(f"remote '{name}': credentials rejected ({code})")
    if codes & {"AccessDenied", "AllAccessDisabled", "AccountProblem"}:
        return RemotePermissionError(f"remote '{name}': permission denied while {what}")
    if codes & {"Forbidden", "403"}:  # a HEAD's 403 has no body: a bad key looks the same
        return RemotePermissionError(
            f"remote '{name}': credentials rejected or no permission while {what} (HTTP 403)"
        )
    if "NoSuchBucket" in codes or (isinstance(exc, FileNotFoundError) and _is_missing_bucket(exc)):
        bucket = where.split("/", 1)[0] if where else "?"
        return RemoteNotFoundError(f"remote '{name}': bucket '{bucket}' does not exist")
    if names & {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "gaierror",
        "TimeoutError",
        "FSTimeoutError",
        "ReadTimeoutError",
        "ClientConnectionError",
        "ProxyConnectionError",
    }:
        return RemoteUnreachableError(
            f"remote '{name}' is unreachable while {what}: {_first_line(exc)}"
        )
    full = next((e for e in chain if isinstance(e, OSError) and e.errno in _FULL), None)
    if full is not None:
        if what.startswith(("downloading", "reading", "opening")):  # into the local cache
            return RemoteError(f"no space left on device in the local cache while {what}")
        return RemoteError(
            f"remote '{name}' is full: no space left on device at {where or 'the remote'} "
            f"while {what}"
        )
    if isinstance(exc, PermissionError):
        target = f": {exc.filename}" if exc.filename else ""
        return RemotePermissionError(f"remote '{name}': permission denied while {what}{target}")
    if isinstance(exc, OSError) or names & {"BotoCoreError", "ClientError", "ClientResponseError"}:
        return RemoteError(f"remote '{name}': {what} failed: {_first_line(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return line[:300]


@contextlib.contextmanager
def _translate(name: str, what: str, where: str = "") -> Iterator[None]:
    try:
        yield
    except (IntegrityError, ObjectNotFoundError, RemoteError):
        raise
    except Exception as exc:
        mapped = translate(name, what, exc, where)
        if mapped is None:
            raise
        raise mapped from exc
