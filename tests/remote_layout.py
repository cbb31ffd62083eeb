"""What a folder remote holds, read straight from its files (docs/spec/remote.md): loose
objects, packed objects (through the pack indexes) and chunked files (chunk lists)."""

from __future__ import annotations

from pathlib import Path

from gitml.packfile import parse_index


def _sharded(base: Path) -> set[str]:
    if not base.is_dir():
        return set()
    return {
        shard.name + entry.name
        for shard in base.iterdir()
        for entry in shard.iterdir()
        if len(shard.name) == 2 and len(entry.name) == 62
    }


def loose(store: Path) -> set[str]:
    return _sharded(store / "objects" / "blake3")


def packed(store: Path) -> dict[str, tuple[Path, int, int]]:
    """oid hex -> (pack file, offset, length), for every pack with an index."""
    found: dict[str, tuple[Path, int, int]] = {}
    for idx in sorted((store / "packs").glob("*.idx")):
        index = parse_index(idx.read_bytes(), idx.stem, str(idx))
        for oid, (offset, length) in index.entries.items():
            found.setdefault(oid.hexdigest, (idx.with_suffix(".pack"), offset, length))
    return found


def stored(store: Path) -> set[str]:
    """Every object id the remote holds: loose, packed, or chunked."""
    return loose(store) | set(packed(store)) | _sharded(store / "chunks" / "blake3")


def flip_last_byte(store: Path, hexdigest: str) -> Path:
    """Corrupt an object where it lies (loose file or inside its pack): the last byte
    is replaced by a different one. Returns the file changed."""
    target = store / "objects" / "blake3" / hexdigest[:2] / hexdigest[2:]
    if target.is_file():
        end = target.stat().st_size
    else:
        target, offset, length = packed(store)[hexdigest]
        end = offset + length
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[end - 1] ^= 0x01
    target.write_bytes(bytes(data))
    return target
