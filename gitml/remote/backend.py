"""Backends: what a remote's filesystem can do, and the file operations the store makes.

The only module that looks at a remote's protocol (its URL scheme). It turns the scheme
into `Capabilities` once; everything else asks those (atomic puts? can it list? a folder
on this machine?) instead of comparing scheme names. Every library exception raised by a
file operation goes through one translation context, `Backend.errors`.

Filesystems: a local folder is `folder.FolderFS` (os/shutil, no fsspec), S3 is
`s3.S3FS` (light signed reads, s3fs for the rest), any other scheme is the fsspec
implementation registered for it. fsspec and s3fs are imported lazily, inside functions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.errors import IntegrityError, RemoteError
from gitml.hashing import Buffer, Oid, hash_file
from gitml.remote import sizes
from gitml.remote.config import RemoteConfig, is_local_url
from gitml.remote.failures import (
    READ_ATTEMPTS,
    CutShortError,
    is_missing_bucket,
    retry_reads,
    translated,
)
from gitml.remote.layout import temp_beside

# Protocols whose single-object put is atomic (never a partial object under its name).
_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"}
_READ_ONLY = {"http", "https"}
_S3 = {"s3", "s3a"}
_FEW_JOBS = {"file", "local", "memory"}  # the disk (or the GIL) is the limit, not latency
# sshfs's cat_file ignores start/end: a range is read by seeking in an open file.
_NO_RANGED_CAT = {"ssh", "sftp"}
# The extra of gitml that brings each scheme's fsspec implementation (pyproject.toml).
_EXTRAS = {
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "ssh": "ssh",
    "sftp": "ssh",
    "http": "http",
    "https": "http",
}


@dataclass(frozen=True)
class Capabilities:
    atomic_put: bool  # a put never leaves a partial object under its name
    read_only: bool
    can_list: bool  # plain HTTP servers cannot list
    parallelism: int  # transfers in flight by default (`--jobs` overrides)
    local: bool  # the root is a folder on this machine: os and hashlib may read it
    tuned_transfers: bool  # takes part sizes and concurrency per call (s3fs)
    ranged_cat: bool  # cat_file honours start/end (else: open, seek, read)


def capabilities(protocol: str) -> Capabilities:
    return Capabilities(
        atomic_put=protocol in _ATOMIC_PUT,
        read_only=protocol in _READ_ONLY,
        can_list=protocol not in _READ_ONLY,
        parallelism=4 if protocol in _FEW_JOBS else 16,
        local=protocol == "file",
        tuned_transfers=protocol in _S3,
        ranged_cat=protocol not in _NO_RANGED_CAT,
    )


def connect(remote: RemoteConfig, workspace_root: Path, jobs: int) -> tuple[Any, str, str]:
    """The filesystem, root path and protocol of a configured remote (no request yet)."""
    protocol = remote.protocol
    with translated(remote.name, "connecting"):
        try:
            if is_local_url(remote.url):
                return _folder(remote, workspace_root)
            if protocol in _S3:
                from gitml.remote.s3 import s3_filesystem

                fs, root = s3_filesystem(remote, jobs)
                return fs, root, protocol
            return _fsspec(remote)
        except ImportError as exc:
            raise RemoteError(_missing_package(remote, exc)) from exc
        except ValueError as exc:
            if "Protocol not known" in str(exc):
                raise RemoteError(
                    f"remote '{remote.name}': unknown URL scheme {protocol}://"
                ) from None
            raise


def _missing_package(remote: RemoteConfig, exc: ImportError) -> str:
    extra = _EXTRAS.get(remote.protocol)
    if extra is None:
        return f"remote '{remote.name}': {remote.protocol}:// needs a package: {exc}"
    return (
        f"remote '{remote.name}': {remote.protocol}:// needs gitml's {extra} extra "
        f"(pip install 'gitml[{extra}]')"
    )


def _folder(remote: RemoteConfig, workspace_root: Path) -> tuple[Any, str, str]:
    from gitml.remote.folder import FolderFS

    url = remote.url
    root = Path(url[len("file://") :] if url.startswith("file://") else url).expanduser()
    if not root.is_absolute():
        root = workspace_root / root
    return FolderFS(), os.path.normpath(root), "file"


def _fsspec(remote: RemoteConfig) -> tuple[Any, str, str]:
    import fsspec

    cls = fsspec.get_filesystem_class(remote.protocol)
    # What the URL says (ssh://user@host:port/...: host, port, username), then the options.
    options = {**cls._get_kwargs_from_urls(remote.url), **remote.fs_options}
    fs = cls(skip_instance_cache=True, **options)
    if capabilities(remote.protocol).read_only:  # plain HTTP: the URL is the root
        root = remote.url.rstrip("/")
    else:
        root = str(cls._strip_protocol(remote.url)).rstrip("/")
    return fs, root, remote.protocol


class Backend:
    """File operations on one remote's filesystem. Paths are full (root included)."""

    def __init__(self, name: str, fs: Any, root: str, protocol: str) -> None:
        self.name = name
        self.fs = fs
        self.root = root
        self.protocol = protocol
        self.caps = capabilities(protocol)
        tuned = self.caps.tuned_transfers
        # s3fs: parts up in parallel, one streamed GET down, one GET per ranged read (no
        # HEAD for the size first).
        self._put_options = (
            {"chunksize": sizes.PART_SIZE, "max_concurrency": sizes.PART_CONCURRENCY}
            if tuned
            else {}
        )
        self._get_options = (
            {"chunksize": sizes.PART_SIZE, "max_concurrency": sizes.GET_CONCURRENCY}
            if tuned
            else {}
        )
        self._cat_options = {"max_concurrency": 1} if tuned else {}
        self._open_options = {"block_size": sizes.PART_SIZE} if tuned else {}

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Translate library exceptions raised while `what` into one-line RemoteErrors."""
        return translated(self.name, what, self.root)

    def url(self, path: str) -> str:
        """A path as users name it: a local path, or a URL with its scheme."""
        if self.caps.local or "://" in path:
            return path
        return str(self.fs.unstrip_protocol(path))

    # The root folder ---------------------------------------------------------------------

    def root_is_missing(self) -> bool:
        """A folder remote whose folder does not exist (others cannot tell cheaply)."""
        return self.caps.local and not os.path.isdir(self.root)

    def make_root(self) -> None:
        if self.caps.local:
            os.makedirs(self.root, exist_ok=True)

    # Reading -----------------------------------------------------------------------------

    def cat(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """A file or a byte range of it; a dropped connection or a range cut short is
        read again (`retry_reads`)."""

        def once() -> bytes:
            data = self._cat(path, start, end)
            if start is not None and end is not None and len(data) != end - start:
                raise CutShortError(
                    f"{path.removeprefix(self.root + '/')} on remote '{self.name}' came back "
                    f"cut short {READ_ATTEMPTS} times ({len(data)} of {end - start} bytes)"
                )
            return data

        return retry_reads(once)

    def _cat(self, path: str, start: int | None, end: int | None) -> bytes:
        if start is None and end is None:
            return bytes(self.fs.cat_file(path, **self._cat_options))
        if not self.caps.ranged_cat:
            if start is None or start < 0 or end is None or end < 0:
                return bytes(self.fs.cat_file(path, **self._cat_options))[start:end]
            with self.fs.open(path, "rb") as stream:
                stream.seek(start)
                return bytes(stream.read(max(0, end - start)))
        data = bytes(self.fs.cat_file(path, start=start, end=end, **self._cat_options))
        if start is not None and start >= 0 and end is not None and len(data) >= end > start:
            # A server that ignores Range (python -m http.server) sends the whole file.
            return data[start:end]
        return data

    def listing(self, path: str, *, recursive: bool = False) -> list[str]:
        """The paths in a remote folder (all below it with `recursive`); none while the
        folder does not exist yet. A missing bucket stays an error."""
        try:
            return retry_reads(
                lambda: list(self.fs.find(path) if recursive else self.fs.ls(path, detail=False))
            )
        except FileNotFoundError as exc:
            if is_missing_bucket(exc):
                raise
            return []

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def get_file(self, path: str, local: str) -> None:
        """Download a file in one streamed read (retried when the connection drops)."""
        retry_reads(lambda: self.fs.get_file(path, local, **self._get_options))

    def open(self, path: str) -> Any:
        """A read stream in bounded blocks (unverified), with `readinto` (which sshfs's
        files lack)."""
        stream = self.fs.open(path, "rb", **self._open_options)
        return stream if hasattr(stream, "readinto") else _WithReadinto(stream)

    def hash_of(self, path: str) -> Oid:
        """The content id of a file as it lies on the remote."""
        if self.caps.local:
            return hash_file(path)
        from gitml.hashing import new_hasher

        hasher = new_hasher()
        with self.fs.open(path, "rb") as stream:  # not every fsspec file has readinto
            while block := stream.read(sizes.PART_SIZE):
                hasher.update(block)
        return Oid.from_hex(hasher.hexdigest())

    # Writing -----------------------------------------------------------------------------

    def write(self, path: str, data: bytes) -> None:
        """One file from memory: direct where puts are atomic, else temp name + rename."""
        if self.caps.atomic_put:
            self.fs.pipe_file(path, data)
            return
        tmp = temp_beside(path)
        try:
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def write_parts(self, path: str, parts: Sequence[Buffer]) -> None:
        """One file made of `parts` end to end: on a folder written part by part from
        where they lie (no joined copy), elsewhere as `write`."""
        if not self.caps.local:
            self.write(path, b"".join(parts))
            return
        tmp = temp_beside(path)
        try:
            self.fs.pipe_parts(tmp, parts)
            self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def put_verified(self, oid: Oid, source: str, target: str) -> None:
        """Upload local file `source` as `target`, whose name only ever holds bytes that
        hash to `oid`: checked before an atomic put, else checked where it landed under a
        temporary name, then renamed."""
        if self.caps.atomic_put:
            if hash_file(source) != oid:
                raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
            with self.errors(f"uploading {oid}"):
                self.fs.put_file(source, target, **self._put_options)
            return
        tmp = temp_beside(target)
        with self.errors(f"uploading {oid}"):
            try:
                self.fs.put_file(source, tmp)
                if self.hash_of(tmp) != oid:
                    raise IntegrityError(
                        f"upload of {oid} to remote '{self.name}' arrived corrupt; not kept"
                    )
                self.fs.mv(tmp, target)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm_file(tmp)
                raise

    def rm(self, paths: list[str]) -> None:
        self.fs.rm(paths)

    def rm_file(self, path: str) -> None:
        self.fs.rm_file(path)


class _WithReadinto:
    """A binary read stream given `readinto` from its `read` (everything else passes)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __enter__(self) -> _WithReadinto:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()
