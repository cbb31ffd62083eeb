"""The transfer policy: how a set of objects moves between the cache and a remote.

Uploads: objects below PACK_MAX go up together in packs of ~PACK_SIZE (in the given
order, so one output's files share packs), the others one by one, cut into chunks when
they are large (and `chunk` is set). Downloads: packed objects pack by pack (whole or in
merged ranges), the others one by one. Use cases hand over the objects and get back what
moved and what failed; they never see a pack or a size threshold. A remote with
`layout = "whole"` gets every object loose, one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gitml.cache import Cache
from gitml.progress import Progress
from gitml.remote import pool, sizes
from gitml.remote.pool import Item, Outcome
from gitml.remote.store import RemoteStore

Failure = tuple[Item, str]


def upload_all(
    store: RemoteStore,
    cache: Cache,
    items: list[Item],
    progress: Progress,
    description: str,
    *,
    chunk: bool,
    manifests: bool = False,
) -> Outcome:
    """Upload cache objects: small ones in packs, the others one by one (chunked when
    large and `chunk`). `manifests`: the objects are directory manifests, and those of
    MANIFEST_CHUNK_MIN or more go up in small chunks (`RemoteStore.upload_manifest`)."""
    manifest_min = sizes.MANIFEST_CHUNK_MIN if manifests and not store.whole_objects else None

    def upload(item: Item, on_bytes: Callable[[int], None]) -> None:
        if manifest_min is not None and item.size >= manifest_min:
            store.upload_manifest(item.oid, cache.path(item.oid), item.size, on_bytes)
            return
        store.upload(item.oid, cache.path(item.oid), item.size, on_bytes, chunk=chunk)

    def upload_pack(batch: Sequence[Item], on_bytes: Callable[[int], None]) -> list[Failure]:
        return store.upload_pack(batch, cache, on_bytes)

    pack_max = 0 if store.whole_objects else sizes.PACK_MAX  # layout = "whole": no packs
    if manifest_min is not None:
        pack_max = min(pack_max, manifest_min)
    small = [i for i in items if i.size < pack_max]
    packed = pool.run_batches(
        store.pack_groups(small),
        upload_pack,
        jobs=store.jobs,
        progress=progress,
        description=description,
    )
    single = pool.run(
        [i for i in items if i.size >= pack_max],
        upload,
        jobs=store.jobs,
        progress=progress,
        description=description,
    )
    return Outcome(packed.done + single.done, packed.failed + single.failed)


def download_all(
    store: RemoteStore, cache: Cache, items: list[Item], progress: Progress, description: str
) -> Outcome:
    """Fetch objects into the cache: packed ones pack by pack, the others one by one."""

    def download(item: Item, on_bytes: Callable[[int], None]) -> None:
        store.download(item.oid, item.size, cache, on_bytes, item.label)

    def download_pack(batch: Sequence[Item], on_bytes: Callable[[int], None]) -> list[Failure]:
        return store.download_pack(batch, cache, on_bytes)

    batches, rest = store.pack_batches(items)
    packed = pool.run_batches(
        batches, download_pack, jobs=store.jobs, progress=progress, description=description
    )
    single = pool.run(rest, download, jobs=store.jobs, progress=progress, description=description)
    return Outcome(packed.done + single.done, packed.failed + single.failed)
