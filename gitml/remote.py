"""Remote object stores over fsspec: the only module that imports fsspec, s3fs or botocore
(lazily, inside functions: `import s3fs` alone costs ~0.44 s).

Layout (docs/spec/remote.md)::

    <root>/gitml-remote.json                          {"format": 1}
    <root>/objects/blake3/<2 hex>/<62 hex>            one object, raw bytes

Every library exception is translated here into a `RemoteError` subclass whose one-line
message names the remote.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
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
from gitml.hashing import ALGORITHM, Oid, hash_bytes, hash_file
from gitml.remote_config import RemoteConfig, is_local_url

FORMAT = 1
MARKER = "gitml-remote.json"
OBJECTS = "objects"
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
    from fsspec.implementations.local import LocalFileSystem

    url = remote.url
    root = Path(url[len("file://") :] if url.startswith("file://") else url).expanduser()
    if not root.is_absolute():
        root = workspace_root / root
    fs = LocalFileSystem(auto_mkdir=True)
    return RemoteStore(remote.name, fs, os.path.normpath(root), "file", jobs)


def _s3_store(remote: RemoteConfig, jobs: int) -> RemoteStore:
    import s3fs

    fs = s3fs.S3FileSystem(**_s3_kwargs(remote.options, os.environ, jobs))
    fs.retries = 2  # s3fs retries stack on botocore's: fail fast when the endpoint is down
    root = str(fs._strip_protocol(remote.url)).rstrip("/")
    return RemoteStore(remote.name, fs, root, remote.protocol, jobs)


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
                f"remote '{self.name}' uses format {number}; this gitml reads format {FORMAT}",
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
        if number is None:
            data = (json.dumps({"format": FORMAT}) + "\n").encode()
            with self._errors("writing the format marker"):
                if self.protocol == "file":
                    os.makedirs(self.root, exist_ok=True)
                self._write(f"{self.root}/{MARKER}", data)
        self._format_checked = False
        self.check_format()

    # Listing ----------------------------------------------------------------------

    def present(self, oids: Collection[Oid]) -> set[Oid]:
        """Those of `oids` the remote holds: one listing of the store, or of a few shards."""
        return self._present_in(OBJECTS, oids)

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
        """Every object in the store (one listing)."""
        self.check_format()
        return self._list(f"{self.root}/{OBJECTS}")

    def _list(self, prefix: str, ls: bool = False) -> Iterator[Oid]:
        with self._errors("listing objects"):
            try:
                paths = self.fs.ls(prefix, detail=False) if ls else self.fs.find(prefix)
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                paths = []
        return _oids_from_paths(paths)

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
            try:
                if key is None:
                    paths = self.fs.find(base)
                else:
                    paths = self.fs.ls(f"{base}/{key[:2]}/{key[2:]}", detail=False)
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise
                paths = []
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
        self, oid: Oid, source: str | Path, size: int, on_bytes: Callable[[int], None]
    ) -> None:
        """Copy cache object `source` to the remote; its bytes must hash to `oid`."""
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
        """Fetch an object into the cache; it enters the cache only if its hash matches."""
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
        """Delete objects. A caller deleting files of a directory must first delete that
        directory's `dirs/` record (`unmark_complete`)."""
        with self._errors("removing objects"):
            self.fs.rm([self.object_path(oid) for oid in oids])

    def open_object(self, oid: Oid, label: str = "") -> Any:
        """A read stream of one object, in bounded blocks. Unverified: the caller hashes
        what it reads (gitml.verified); errors while reading go through `errors()`."""
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
        """Where the object lives: a URL, or an absolute path for a folder remote."""
        path = self.object_path(oid)
        if self.protocol == "file" or "://" in path:
            return path
        return str(self.fs.unstrip_protocol(path))

    def unmark_complete(self, manifest_oids: Iterable[Oid]) -> None:
        with self._errors("removing directory records"):
            self.fs.rm([f"{self.root}/{DIRS}/{object_relpath(oid)}" for oid in manifest_oids])


# Helpers ----------------------------------------------------------------------------


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
    if codes & {"AccessDenied", "AllAccessDisabled", "AccountProblem", "Forbidden", "403"}:
        return RemotePermissionError(f"remote '{name}': permission denied while {what}")
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
