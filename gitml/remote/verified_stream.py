"""Streams of one object that check its content id.

A sequential read hashes what it hands out and compares with the id when the last byte
is read: a mismatch raises `IntegrityError` instead of returning the final chunk (so a
reader that reaches EOF never ends "cleanly" on bad bytes). Bytes handed out before the
end were not yet verified, and a stream closed before its end is never verified.

A seek away from the read position (Parquet readers jump to the footer first) switches
to random access over a local copy verified in full first: a cache object is hashed in
place; a remote object is downloaded into a temporary file, hashed, then served.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from gitml.errors import IntegrityError
from gitml.hashing import Oid, hash_file, new_hasher

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore


class Blob(Protocol):
    """Where one object's bytes can be read from."""

    def open_stream(self) -> BinaryIO: ...

    def verified_path(self) -> str:
        """A local file holding the whole object, already checked against its id."""
        ...

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]: ...

    def cleanup(self) -> None: ...


class CacheBlob:
    def __init__(self, path: str, oid: Oid, label: str) -> None:
        self.path = path
        self.oid = oid
        self.label = label

    def open_stream(self) -> BinaryIO:
        return open(self.path, "rb")

    def verified_path(self) -> str:
        actual = hash_file(self.path)
        if actual != self.oid:
            raise IntegrityError(
                f"{self.label}: cache object {self.oid} is corrupt (its bytes hash to {actual})"
            )
        return self.path

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def cleanup(self) -> None:
        pass


class RemoteBlob:
    def __init__(self, store: RemoteStore, oid: Oid, size: int, label: str) -> None:
        self.store = store
        self.oid = oid
        self.size = size
        self.label = label
        self._spool: str | None = None

    def open_stream(self) -> BinaryIO:
        stream: BinaryIO = self.store.open_object(self.oid, self.label)
        return stream

    def verified_path(self) -> str:
        from gitml.cache import Cache

        if self._spool is None:
            spool = tempfile.mkdtemp(prefix="gitml-read-")
            try:
                cache = Cache(Path(spool))
                self.store.download(self.oid, self.size, cache, lambda _n: None, self.label)
            except BaseException:
                shutil.rmtree(spool, ignore_errors=True)
                raise
            self._spool = spool
        return str(Path(self._spool) / "blake3" / self.oid.hexdigest[:2] / self.oid.hexdigest[2:])

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        return self.store.errors(what)

    def cleanup(self) -> None:
        spool, self._spool = self._spool, None
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)


class VerifiedReader(io.RawIOBase):
    """A raw, seekable, read-only stream of object `oid` (`size` bytes)."""

    def __init__(self, blob: Blob, oid: Oid, size: int, label: str) -> None:
        super().__init__()
        self._blob = blob
        self.oid = oid
        self.size = size
        self.label = label
        self.name = label
        self._pos = 0  # logical position (seek/tell)
        self._hashed = 0  # bytes hashed from the start, in order
        self._hasher: Any = new_hasher()
        self._stream: BinaryIO | None = None
        self._random: BinaryIO | None = None
        self.verified = False

    # io.RawIOBase -----------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check_open()
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            target = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise OSError(22, "negative seek position")
        self._pos = target  # nothing is read until the next read
        return target

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        view = memoryview(buffer).cast("B")
        if self._random is None and self._pos != self._hashed:
            self._to_random_access()
        if self._random is not None:
            self._random.seek(self._pos)
            n = self._random.readinto(view)  # type: ignore[attr-defined]
            self._pos += n
            return int(n)
        remaining = self.size - self._pos
        if remaining <= 0:
            self._finish()
            return 0
        if len(view) > remaining:
            view = view[:remaining]
        with self._blob.errors(f"reading {self.oid}"):
            n = _readinto(self._sequential(), view)
        if n == 0:
            raise IntegrityError(
                f"{self.label}: object {self.oid} ended after {self._hashed} of {self.size} bytes"
            )
        self._hasher.update(view[:n])
        self._hashed += n
        self._pos += n
        if self._hashed == self.size:
            self._finish()
        return n

    def close(self) -> None:
        if not self.closed:
            for stream in (self._stream, self._random):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
            self._stream = self._random = None
            self._blob.cleanup()
        super().close()

    # Internals ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def _sequential(self) -> BinaryIO:
        if self._stream is None:
            self._stream = self._blob.open_stream()
        return self._stream

    def _finish(self) -> None:
        if self.verified:
            return
        actual = Oid(self._hasher.hexdigest())
        if actual != self.oid:
            raise IntegrityError(
                f"{self.label}: object {self.oid} is corrupt (its bytes hash to {actual})"
            )
        self.verified = True

    def _to_random_access(self) -> None:
        path = self._blob.verified_path()
        self.verified = True
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._random = open(path, "rb")  # noqa: SIM115  (closed in close())


def _readinto(stream: BinaryIO, view: memoryview) -> int:
    readinto: Callable[[memoryview], int | None] | None = getattr(stream, "readinto", None)
    if readinto is not None:
        n = readinto(view)
        return n or 0
    data = stream.read(len(view))
    view[: len(data)] = data
    return len(data)


def open_verified(
    blob: Blob, oid: Oid, size: int, label: str, mode: str = "rb", **text_options: Any
) -> Any:
    """A buffered binary (or, with "r"/"rt", text) stream over a VerifiedReader."""
    if mode not in ("rb", "r", "rt"):
        raise ValueError(f"mode must be 'rb', 'r' or 'rt', not {mode!r}")
    raw = VerifiedReader(blob, oid, size, label)
    buffered = io.BufferedReader(raw, buffer_size=1024 * 1024)
    if mode == "rb":
        return buffered
    return io.TextIOWrapper(buffered, **text_options)
