"""Content ids: BLAKE3 over the raw bytes, written as ``blake3:<64 hex>``.

Large files are hashed through a sliding mmap window so memory stays bounded while
BLAKE3 can use several threads on each window (docs/design.md has the measurements).
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import blake3

from gitml.errors import FormatError

ALGORITHM = "blake3"
_HEX_LEN = 64
_HEX_RE = re.compile(r"[0-9a-f]{64}")
_OID_RE = re.compile(r"blake3:[0-9a-f]{64}")
# Below this size a single read beats setting up a mapping.
_MMAP_MIN = 4 * 1024 * 1024
_WINDOW = 32 * 1024 * 1024
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, order=True)
class Oid:
    """A validated content id."""

    hexdigest: str

    @property
    def algorithm(self) -> str:
        return ALGORITHM

    def __str__(self) -> str:
        return f"{ALGORITHM}:{self.hexdigest}"

    @classmethod
    def parse(cls, text: str) -> Oid:
        if not _OID_RE.fullmatch(text):
            raise FormatError(f"invalid content id {text[:80]!r} (expected blake3:<64 hex digits>)")
        return cls(text[len(ALGORITHM) + 1 :])

    @classmethod
    def from_hex(cls, hexdigest: str) -> Oid:
        if not _HEX_RE.fullmatch(hexdigest):
            raise FormatError(f"invalid {ALGORITHM} digest {hexdigest[:80]!r}")
        return cls(hexdigest)


def new_hasher(size_hint: int = 0) -> blake3.blake3:
    threads = blake3.blake3.AUTO if size_hint >= _MMAP_MIN else 1
    return blake3.blake3(max_threads=threads)


def hex_digest(data: bytes) -> str:
    """The BLAKE3 hex digest of bytes that are not stored content (run keys, pack ids,
    checksums, fingerprints)."""
    return str(blake3.blake3(data).hexdigest())


Buffer = bytes | bytearray | memoryview


def hash_bytes(data: Buffer) -> Oid:
    return Oid(blake3.blake3(data).hexdigest())


def hash_stream(stream: BinaryIO) -> tuple[Oid, int]:
    """Hash a stream with a fixed buffer; returns the id and the byte count."""
    hasher = blake3.blake3()
    buffer = bytearray(_READ_CHUNK)
    view = memoryview(buffer)
    total = 0
    while n := stream.readinto(view):  # type: ignore[attr-defined]
        hasher.update(view[:n])
        total += n
    return Oid(hasher.hexdigest()), total


def hash_file(
    path: str | os.PathLike[str],
    size: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Oid:
    """Hash a file's bytes with bounded memory. `on_bytes` hears of each window hashed
    (a progress bar that moves within one large file)."""
    with open(path, "rb") as handle:
        if size is None:
            size = os.fstat(handle.fileno()).st_size
        if size < _MMAP_MIN:
            data = handle.read()
            if on_bytes is not None:
                on_bytes(len(data))
            return Oid(blake3.blake3(data).hexdigest())
        hasher = new_hasher(size)
        fd = handle.fileno()
        offset = 0
        actual = os.fstat(fd).st_size
        while offset < actual:
            length = min(_WINDOW, actual - offset)
            with mmap.mmap(fd, length, offset=offset, access=mmap.ACCESS_READ) as window:
                hasher.update(window)
            offset += length
            if on_bytes is not None:
                on_bytes(length)
        return Oid(hasher.hexdigest())
