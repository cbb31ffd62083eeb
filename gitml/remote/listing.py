"""Which ids a sharded folder (`objects/`, `chunks/`, `dirs/`) holds, learnt from one
listing of the folder, a few shard listings when few ids are asked about, or one
`exists` per id where the remote cannot list (plain HTTP)."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from gitml.hashing import Oid
from gitml.remote import sizes
from gitml.remote.backend import Backend
from gitml.remote.layout import Layout


def list_ids(backend: Backend, layout: Layout, folder: str) -> Iterator[Oid]:
    """Every id in a sharded folder (one recursive listing)."""
    with backend.errors("listing objects"):
        paths = backend.listing(layout.folder(folder), recursive=True)
    return layout.oids_from_paths(paths)


def present_in(
    backend: Backend, layout: Layout, folder: str, oids: Collection[Oid], jobs: int
) -> set[Oid]:
    """Those of `oids` found in `folder`."""
    if not oids:
        return set()
    if not backend.caps.can_list:
        return _one_by_one(backend, layout, folder, oids, jobs)
    shards = {oid.hexdigest[:2] for oid in oids}
    if len(shards) <= sizes.PER_SHARD_MAX:
        found: set[Oid] = set()
        for shard in sorted(shards):
            with backend.errors("listing objects"):
                paths = backend.listing(layout.shard(folder, shard))
            found.update(layout.oids_from_paths(paths))
    else:
        found = set(list_ids(backend, layout, folder))
    return found & set(oids)


def _one_by_one(
    backend: Backend, layout: Layout, folder: str, oids: Collection[Oid], jobs: int
) -> set[Oid]:
    from concurrent.futures import ThreadPoolExecutor

    def has(oid: Oid) -> bool:
        with backend.errors("checking objects"):
            return backend.exists(layout.sharded(folder, oid))

    with ThreadPoolExecutor(jobs) as pool:
        listed = list(oids)
        return {oid for oid, ok in zip(listed, pool.map(has, listed), strict=True) if ok}
