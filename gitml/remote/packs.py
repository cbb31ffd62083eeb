"""Packs (format 2, docs/spec/remote.md): small objects and chunks concatenated into
`packs/<id>.pack`, with `packs/<id>.idx` saying where each one lies. A pack is written
before its index, so an index on the remote means a complete pack.

`Packs` knows every index of one remote (listed once per process, each index downloaded
once and kept under the local cache), builds and uploads packs, and reads objects back
out of them, whole or in merged ranges, verifying each.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Collection, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

from gitml.cache import Cache
from gitml.errors import IntegrityError, RemoteError
from gitml.hashing import Buffer, Oid, hash_bytes, new_hasher
from gitml.packfile import PackIndex, coalesce, parse_index, render_index
from gitml.remote import sizes
from gitml.remote.backend import Backend
from gitml.remote.failures import is_missing_bucket, named
from gitml.remote.layout import PACKS, TEMP_PREFIX, Layout
from gitml.remote.pool import Item

Failure = tuple[Item, str]


class Packs:
    def __init__(self, backend: Backend, layout: Layout, jobs: int) -> None:
        self.backend = backend
        self.layout = layout
        self.jobs = jobs
        self.local_dir: Path | None = None  # <cache>/remotes/<id>: cached pack indexes
        self._slots = threading.BoundedSemaphore(sizes.PACK_SLOTS)
        self._lock = threading.RLock()
        self._loaded = False
        self._packs: dict[str, PackIndex] = {}
        self._where: dict[Oid, tuple[str, int, int]] = {}

    # The indexes -------------------------------------------------------------------------

    def load(self) -> None:
        """List `packs/` once and read every index not read yet (cached locally)."""
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:
            if self._loaded:
                return
            with self.backend.errors("listing packs"):
                try:
                    names = self.backend.listing(self.layout.folder(PACKS))
                except Exception:
                    if self.backend.caps.can_list:
                        raise
                    names = []  # an HTTP server without directory pages: loose objects only
            todo = []
            for pack_id in (self.layout.pack_id_of(n) for n in names):
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
            self._loaded = True

    def where(self, oid: Oid) -> tuple[str, int, int] | None:
        """(pack id, offset, length) of a packed object, None when it is in no pack."""
        self.load()
        return self._where.get(oid)

    def all_packed(self) -> AbstractSet[Oid]:
        """Every packed object (a live view: no copy of what may be a large table)."""
        self.load()
        return self._where.keys()

    def live(self) -> dict[str, PackIndex]:
        """Every pack with an index."""
        self.load()
        return dict(self._packs)

    def forget(self, pack_ids: Collection[str]) -> None:
        """Drop deleted packs from what this process knows."""
        with self._lock:
            for pack_id in pack_ids:
                del self._packs[pack_id]
            self._where = {}
            for index in list(self._packs.values()):
                self._register(index)

    def _register(self, index: PackIndex) -> None:
        with self._lock:
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
        what = f"pack index {PACKS}/{pack_id}.idx on remote '{self.backend.name}' (cached)"
        try:
            return parse_index(local.read_bytes(), pack_id, what)
        except (IntegrityError, OSError):
            return None

    def _read_index(self, pack_id: str) -> PackIndex:
        """Download an index not cached locally (`load` looked), check and cache it."""
        name = f"{PACKS}/{pack_id}.idx"
        what = f"pack index {name} on remote '{self.backend.name}'"
        with self.backend.errors(f"downloading {name}"):
            data = self.backend.cat(self.layout.pack_path(pack_id, "idx"))
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

    # Writing -----------------------------------------------------------------------------

    @staticmethod
    def groups(items: Sequence[Item]) -> list[list[Item]]:
        """Split small objects, in the given (manifest) order, into packs of ~PACK_SIZE."""
        groups: list[list[Item]] = []
        pack_size = sizes.PACK_SIZE
        size = pack_size
        for item in items:
            if size + item.size > pack_size and size:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += item.size
        return groups

    def upload(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[Failure]:
        """Upload cache objects as one pack, then its index. Returns the objects left out
        (corrupt or vanished from the cache) with the reason."""
        failed: list[Failure] = []
        parts: list[bytes] = []
        entries: list[tuple[Oid, int]] = []
        with self._slots:
            for item in items:
                try:
                    with open(cache.path(item.oid), "rb") as handle:
                        data = handle.read()
                except FileNotFoundError:
                    failed.append((item, f"{named(item.oid, item.label)} is not in the cache"))
                    continue
                if hash_bytes(data) != item.oid:
                    failed.append((item, f"cache object {item.oid} is corrupt; not uploading it"))
                    continue
                parts.append(data)
                entries.append((item.oid, len(data)))
            if entries:
                self.put(b"".join(parts), entries)
        on_bytes(sum(n for _, n in entries))
        return failed

    def put(self, data: bytes, entries: Sequence[tuple[Oid, int]]) -> None:
        """Upload the pack `data` holding `entries` in order: the pack first, then its
        index."""
        self.put_parts([data], entries)

    def put_parts(self, parts: Sequence[Buffer], entries: Sequence[tuple[Oid, int]]) -> None:
        """As `put`, the pack being `parts` end to end (never joined on a folder remote)."""
        hasher = new_hasher(0)
        for part in parts:
            hasher.update(part)
        pack_id = str(hasher.hexdigest())
        index = render_index(pack_id, entries)
        with self.backend.errors(f"uploading pack {pack_id}"):
            self.backend.write_parts(self.layout.pack_path(pack_id, "pack"), parts)
            self.backend.write(self.layout.pack_path(pack_id, "idx"), index)
        self._save_index(pack_id, index)
        self._register(parse_index(index, pack_id, "new pack index"))

    # Reading -----------------------------------------------------------------------------

    def batches(self, items: Sequence[Item]) -> tuple[list[list[Item]], list[Item]]:
        """Items grouped by the pack holding them, and the items in no pack."""
        self.load()
        by_pack: dict[str, list[Item]] = {}
        rest: list[Item] = []
        for item in items:
            where = self._where.get(item.oid)
            if where is None:
                rest.append(item)
            else:
                by_pack.setdefault(where[0], []).append(item)
        return list(by_pack.values()), rest

    def download(
        self, items: Sequence[Item], cache: Cache, on_bytes: Callable[[int], None]
    ) -> list[Failure]:
        """Fetch objects of one pack into the cache: the whole pack in one GET when at
        least half of it is wanted, else merged ranges. Every object is verified."""
        pack_id = self._where[items[0].oid][0]
        index = self._packs[pack_id]
        spans = [index.entries[i.oid] for i in items]
        if 2 * sum(n for _, n in spans) >= index.size:
            reads = [(0, index.size, list(range(len(items))))]
        else:
            reads = coalesce(spans, sizes.RANGE_GAP, sizes.RANGE_MAX)
        name = f"{PACKS}/{pack_id}.pack"
        failed: list[Failure] = []
        with self._slots:
            for start, end, members in reads:
                data = self.read_range(pack_id, start, end)
                for i in members:
                    item, (offset, length) = items[i], spans[i]
                    blob = data[offset - start : offset - start + length]
                    actual = hash_bytes(blob)
                    if actual != item.oid:
                        failed.append(
                            (
                                item,
                                f"{named(item.oid, item.label)} in {name} on remote "
                                f"'{self.backend.name}' is corrupt (its bytes hash to "
                                f"{actual}); not stored",
                            )
                        )
                        continue
                    cache.add_bytes(blob, item.oid)
                    on_bytes(length)
        return failed

    def read_range(self, pack_id: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of a pack (unverified)."""
        name = f"{PACKS}/{pack_id}.pack"
        with self.backend.errors(f"downloading {name}"):
            try:
                data = self.backend.cat(self.layout.pack_path(pack_id, "pack"), start, end)
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                raise RemoteError(
                    f"remote '{self.backend.name}': {name} is missing although its index is there"
                ) from None
        return data

    def read_object(self, oid: Oid, label: str) -> bytes:
        """A packed object's bytes, verified."""
        pack_id, offset, length = self._where[oid]
        data = self.read_range(pack_id, offset, offset + length)
        actual = hash_bytes(data)
        if actual != oid:
            raise IntegrityError(
                f"{named(oid, label)} in {PACKS}/{pack_id}.pack on remote "
                f"'{self.backend.name}' is corrupt (its bytes hash to {actual}); not stored"
            )
        return data

    # Verification (`gitml verify`) -------------------------------------------------------

    def by_pack(self, oids: Collection[Oid]) -> tuple[dict[str, list[Oid]], list[Oid]]:
        """`oids` grouped by the pack holding them, and those in no pack."""
        batches, rest = self.batches([Item(oid, 0, "") for oid in oids])
        groups = {self._where[batch[0].oid][0]: [i.oid for i in batch] for batch in batches}
        return groups, [i.oid for i in rest]

    def check(self, pack_id: str, wanted: Collection[Oid]) -> list[tuple[Oid | None, str]]:
        """Read a pack and its index again from the remote (not the local index copy): the
        index must be intact, the pack must hash to its name and each of `wanted` to its
        id. Problems as (object, reason); object None for the pack or index as a whole."""
        name = f"{PACKS}/{pack_id}"
        remote = self.backend.name
        problems: list[tuple[Oid | None, str]] = []
        index = self._packs[pack_id]
        with self.backend.errors(f"downloading {name}.idx"):
            try:
                raw = self.backend.cat(self.layout.pack_path(pack_id, "idx"))
            except FileNotFoundError:
                raw = None
                problems.append((None, f"{name}.idx is missing on remote '{remote}'"))
        if raw is not None:
            try:
                parse_index(raw, pack_id, f"pack index {name}.idx on remote '{remote}'")
            except IntegrityError as exc:
                problems.append((None, exc.message))
        with self.backend.errors(f"downloading {name}.pack"):
            try:
                data = self.backend.cat(self.layout.pack_path(pack_id, "pack"))
            except FileNotFoundError:
                missing = f"{name}.pack is missing on remote '{remote}'"
                return [*problems, *((oid, missing) for oid in wanted)]
        actual = hash_bytes(data)
        if actual.hexdigest != pack_id:
            problems.append(
                (None, f"{name}.pack on remote '{remote}' is corrupt (hashes to {actual})")
            )
        for oid in wanted:
            offset, length = index.entries[oid]
            blob = data[offset : offset + length]
            if len(blob) != length or hash_bytes(blob) != oid:
                problems.append((oid, f"{oid} in {name}.pack on remote '{remote}' is corrupt"))
        return problems
