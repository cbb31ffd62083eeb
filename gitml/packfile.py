"""Remote format 2 file formats: pack indexes and chunk lists (docs/spec/remote.md).

Pure code: no I/O, no fsspec. A pack is many whole objects concatenated; its index says
where each one lives. A chunk list says which chunks, in order, make up a large file.
Both are canonical text ending with a BLAKE3 checksum line over everything before it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gitml.errors import IntegrityError
from gitml.hashing import Oid, hex_digest

INDEX_MAGIC = b"gitml-pack-index 1\n"
CHUNKS_MAGIC = b"gitml-chunk-list 1\n"
_HEX64 = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class PackIndex:
    pack_id: str  # BLAKE3 hex of the pack's bytes
    size: int  # the pack's size in bytes
    entries: dict[Oid, tuple[int, int]]  # oid -> (offset, length)


def _seal(body: bytes) -> bytes:
    return body + b"checksum " + hex_digest(body).encode() + b"\n"


def _unseal(data: bytes, magic: bytes, what: str) -> list[str]:
    """The body lines of a sealed file, after checking its magic and checksum."""
    head, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    if not data.startswith(magic) or not sep or not data.endswith(b"\n"):
        raise IntegrityError(f"{what} is corrupt (bad header or truncated)")
    body = head + b"\n"
    expected = b"checksum " + hex_digest(body).encode()
    if last != expected:
        raise IntegrityError(f"{what} is corrupt (checksum mismatch)")
    try:
        return body[len(magic) :].decode("ascii").splitlines()
    except UnicodeDecodeError:  # pragma: no cover - the checksum matched
        raise IntegrityError(f"{what} is corrupt (not ASCII)") from None


def _hex(text: str, what: str) -> str:
    if not _HEX64.fullmatch(text):
        raise IntegrityError(f"{what} is corrupt (bad id {text[:80]!r})")
    return text


def _int(text: str, what: str) -> int:
    if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise IntegrityError(f"{what} is corrupt (bad number {text[:40]!r})")
    return int(text)


def render_index(pack_id: str, entries: Sequence[tuple[Oid, int]]) -> bytes:
    """The index of a pack made of `entries` (oid, length) concatenated in this order."""
    lines = [INDEX_MAGIC, f"pack {pack_id} {sum(n for _, n in entries)}\n".encode()]
    offset = 0
    for oid, length in entries:
        lines.append(f"{oid.hexdigest} {offset} {length}\n".encode())
        offset += length
    return _seal(b"".join(lines))


def parse_index(data: bytes, pack_id: str, what: str) -> PackIndex:
    """Parse and check an index: checksum, its pack's id, objects laid end to end."""
    lines = _unseal(data, INDEX_MAGIC, what)
    if not lines:
        raise IntegrityError(f"{what} is corrupt (no pack line)")
    head = lines[0].split(" ")
    if len(head) != 3 or head[0] != "pack" or _hex(head[1], what) != pack_id:
        raise IntegrityError(f"{what} is corrupt (it does not describe pack {pack_id})")
    size = _int(head[2], what)
    entries: dict[Oid, tuple[int, int]] = {}
    offset = 0
    for line in lines[1:]:
        parts = line.split(" ")
        if len(parts) != 3:
            raise IntegrityError(f"{what} is corrupt (bad line {line[:80]!r})")
        start, length = _int(parts[1], what), _int(parts[2], what)
        if start != offset:
            raise IntegrityError(f"{what} is corrupt (objects not laid end to end)")
        entries.setdefault(Oid.from_hex(_hex(parts[0], what)), (start, length))
        offset += length
    if offset != size:
        raise IntegrityError(f"{what} is corrupt (lengths add up to {offset}, not {size})")
    return PackIndex(pack_id, size, entries)


def render_chunk_list(file_oid: Oid, chunks: Sequence[tuple[Oid, int]]) -> bytes:
    size = sum(n for _, n in chunks)
    lines = [CHUNKS_MAGIC, f"file {file_oid.hexdigest} {size}\n".encode()]
    lines += [f"{oid.hexdigest} {length}\n".encode() for oid, length in chunks]
    return _seal(b"".join(lines))


def parse_chunk_list(data: bytes, file_oid: Oid, what: str) -> list[tuple[Oid, int]]:
    lines = _unseal(data, CHUNKS_MAGIC, what)
    head = lines[0].split(" ") if lines else []
    if len(head) != 3 or head[0] != "file" or _hex(head[1], what) != file_oid.hexdigest:
        raise IntegrityError(f"{what} is corrupt (it does not describe {file_oid})")
    size = _int(head[2], what)
    chunks: list[tuple[Oid, int]] = []
    for line in lines[1:]:
        parts = line.split(" ")
        if len(parts) != 2:
            raise IntegrityError(f"{what} is corrupt (bad line {line[:80]!r})")
        chunks.append((Oid.from_hex(_hex(parts[0], what)), _int(parts[1], what)))
    if sum(n for _, n in chunks) != size:
        raise IntegrityError(f"{what} is corrupt (chunk sizes do not add up to {size})")
    return chunks


def coalesce(
    spans: Sequence[tuple[int, int]], gap: int, limit: int
) -> list[tuple[int, int, list[int]]]:
    """Merge (offset, length) spans into read ranges (start, end, span indexes): spans less
    than `gap` bytes apart share a range, and a range grows to at most `limit` bytes
    (a single longer span gets a range of its own)."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    ranges: list[tuple[int, int, list[int]]] = []
    for i in order:
        offset, length = spans[i]
        if ranges:
            start, end, members = ranges[-1]
            if offset - end <= gap and max(end, offset + length) - start <= limit:
                ranges[-1] = (start, max(end, offset + length), [*members, i])
                continue
        ranges.append((offset, offset + length, [i]))
    return ranges


def check_pack_name(name: str) -> str | None:
    """The pack id of `packs/<id>.idx` (None for anything else)."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext == "idx":
        try:
            return _hex(stem, name)
        except IntegrityError:
            return None
    return None
