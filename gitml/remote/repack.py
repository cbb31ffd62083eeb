"""`gc --remote` for format 2 (docs/spec/remote.md, steps 1-3): drop the chunk lists of
files not kept, and replace every pack holding an object not kept by new packs of its
kept objects, written pack then index; only then is the old `.idx` deleted, then the old
`.pack`, so a reader never finds an index without its pack."""

from __future__ import annotations

from collections.abc import Collection

from gitml.errors import IntegrityError
from gitml.hashing import Oid, hash_bytes
from gitml.remote import sizes
from gitml.remote.chunks import Chunks
from gitml.remote.layout import PACKS
from gitml.remote.packs import Packs


def repack(packs: Packs, chunks: Chunks, keep: Collection[Oid]) -> tuple[int, int, int]:
    """`keep`: the live files and manifests. Chunks of kept files are kept. Loose objects
    and `dirs/` records are the caller's. Returns (chunk lists removed, packs removed,
    packed objects dropped)."""
    wanted = set(keep)
    chunked = set(chunks.list_all())
    for oid in sorted(chunked & wanted):
        wanted.update(chunks.chunks_of(oid))
    dead_lists = sorted(chunked - wanted)
    if dead_lists:
        chunks.remove_lists(dead_lists)
    removed, dropped = _repack(packs, wanted)
    return len(dead_lists), removed, dropped


def _repack(packs: Packs, wanted: set[Oid]) -> tuple[int, int]:
    backend, layout = packs.backend, packs.layout
    doomed = [
        index for index in packs.live().values() if any(oid not in wanted for oid in index.entries)
    ]
    dropped = 0
    for index in doomed:
        live = [(oid, span) for oid, span in index.entries.items() if oid in wanted]
        dropped += len(index.entries) - len(live)
        if not live:
            continue
        data = packs.read_range(index.pack_id, 0, index.size)
        parts: list[bytes] = []
        entries: list[tuple[Oid, int]] = []
        for oid, (offset, length) in live:
            blob = data[offset : offset + length]
            if hash_bytes(blob) != oid:
                raise IntegrityError(
                    f"object {oid} in {PACKS}/{index.pack_id}.pack on remote "
                    f"'{backend.name}' is corrupt; not repacking that pack"
                )
            parts.append(blob)
            entries.append((oid, length))
            if sum(n for _, n in entries) >= sizes.PACK_SIZE:
                packs.put(b"".join(parts), entries)
                parts, entries = [], []
        if entries:
            packs.put(b"".join(parts), entries)
    for index in doomed:
        with backend.errors(f"removing pack {index.pack_id}"):
            backend.rm_file(layout.pack_path(index.pack_id, "idx"))
            backend.rm_file(layout.pack_path(index.pack_id, "pack"))
    packs.forget([index.pack_id for index in doomed])
    return len(doomed), dropped
