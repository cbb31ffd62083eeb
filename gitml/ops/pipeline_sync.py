"""What pipelines add to `push`, `fetch`, `pull`, `status --remote` and `repro --pull`:
run-cache entries (docs/spec/run-cache.md). Stage outs recorded in gitml.lock are tracked
outputs like any other (gitml.outputs).

On a remote, a run entry is an ordinary object (`objects/...`) and its marker an empty
file `runs/<key[:2]>/<key[2:]>/<entry hex>`. A writer uploads every object an entry
needs before its marker; a reader verifies an entry (hash, format, key) before anything
of it enters the cache. Use cases only: nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from gitml.errors import GitmlError, IntegrityError, ObjectNotFoundError
from gitml.hashing import Oid
from gitml.ops.sync import RunSync, upload_all
from gitml.pipeline import RUNS_DIR, runcache
from gitml.pipeline.project import load_pipelines
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.remote.sizes import SMALL_MAX
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from gitml.cache import Cache
    from gitml.pipeline.model import LockEntry
    from gitml.remote.store import RemoteStore

ENTRY_LABEL = "run-cache entry"


def _no_push_paths(ws: Workspace) -> set[str]:
    pipeline = load_pipelines(ws.root)
    if pipeline is None:
        return set()
    return {o.path for s in pipeline.stages.values() for o in s.outs if not o.push}


# Push -------------------------------------------------------------------------------------


def _entry(cache: Cache, entry_oid: Oid) -> LockEntry:
    return runcache.parse(cache.read_bytes(entry_oid), f"{ENTRY_LABEL} {entry_oid}")


Marker = tuple[str, Oid]  # (run key, entry object id)


def _pushable(ws: Workspace, remote: set[Marker], result: RunSync) -> dict[Marker, list[Oid]]:
    """Local markers the remote lacks whose entries are complete here, with their objects."""
    no_push = _no_push_paths(ws)
    todo: dict[Marker, list[Oid]] = {}
    for marker in runcache.iter_markers(ws.cache):
        if marker in remote:
            result.already += 1
            continue
        try:
            objects = runcache.entry_objects(ws.cache, marker[1])
            entry = _entry(ws.cache, marker[1])
        except GitmlError:
            result.skipped += 1  # incomplete or unreadable here: never published
            continue
        if any(out.path in no_push for out in entry.outs):
            result.skipped += 1
            continue
        todo[marker] = objects
    return todo


def push_runs(ws: Workspace, store: RemoteStore, known: set[Oid]) -> RunSync:
    """Upload the run-cache entries the remote lacks: every object first, the marker last.
    `known`: objects already known to be on the remote (not listed again)."""
    result = RunSync()
    todo = _pushable(ws, store.run_markers(), result)
    needed = {oid for objects in todo.values() for oid in objects}
    on_remote = (known & needed) | store.present(needed - known)
    labels = {oid: f"{ENTRY_LABEL} {entry}" for (_, entry), objs in todo.items() for oid in objs}
    items = [
        Item(oid, os.path.getsize(ws.cache.path(oid)), labels[oid])
        for oid in sorted(needed - on_remote)
    ]

    # As the outputs' own push: small objects in packs, large ones chunked, so an out of a
    # superseded run sends only the chunks the remote lacks (RemoteStore.read_object
    # reassembles a chunked manifest).
    outcome = upload_all(ws, store, items, "Push run-cache", chunk=True)
    result.objects = outcome.done
    result.failed = [(str(i.oid), reason) for i, reason in outcome.failed]
    on_remote |= {i.oid for i in outcome.done}
    for (key, entry_oid), objects in sorted(todo.items()):
        if on_remote.issuperset(objects):
            store.add_run_marker(runcache.marker_relpath(key, entry_oid))
            result.transferred += 1
    return result


def runs_missing(ws: Workspace, store: RemoteStore) -> int:
    """How many local run-cache entries a push would send (for `status --remote`)."""
    if not (ws.cache.root / RUNS_DIR).is_dir():
        return 0  # no local run-cache: nothing to send, no need to list the remote's
    return len(_pushable(ws, store.run_markers(), RunSync()))


# Fetch ------------------------------------------------------------------------------------


def _fetch_entry(cache: Cache, store: RemoteStore, key: str, entry_oid: Oid) -> LockEntry:
    """Download one entry, verify it against its marker, then record it locally."""
    data = store.read_object(entry_oid, ENTRY_LABEL)  # hash-verified
    try:
        entry = runcache.check_entry(data, entry_oid, key)
    except GitmlError as exc:
        raise IntegrityError(
            f"{ENTRY_LABEL} {entry_oid} on remote '{store.name}' is invalid ({exc.message}); "
            "not stored"
        ) from None
    cache.add_bytes(data, entry_oid)
    runcache.add_marker(cache, key, entry_oid)
    return entry


def fetch_runs(ws: Workspace, store: RemoteStore) -> RunSync:
    """Bring every run-cache entry of the remote that the cache lacks (entries only: the
    objects of their outs come when a stage is restored, e.g. by `repro --pull`)."""
    result = RunSync()
    remote = store.run_markers()
    local = set(runcache.iter_markers(ws.cache))
    result.already = len(remote & local)
    todo = sorted(remote - local)
    items = [Item(oid, 0, key) for key, oid in todo]  # the label carries the run key

    def fetch(item: Item, _on_bytes: Callable[[int], None]) -> None:
        _fetch_entry(ws.cache, store, item.label, item.oid)

    outcome = transfer.run(
        items, fetch, jobs=store.jobs, progress=ws.progress, description="Fetch run-cache"
    )
    result.transferred = len(outcome.done)
    result.failed = [(str(i.oid), reason) for i, reason in outcome.failed]
    return result


# repro --pull ---------------------------------------------------------------------------


class RemoteRunSource:
    """`runcache.RunSource` over a remote: entries for one key at a time, and objects on
    demand. Everything that enters the cache is verified first."""

    def __init__(self, ws: Workspace, store: RemoteStore) -> None:
        self.ws = ws
        self.store = store
        self.sizes: dict[Oid, int] = {}  # known object sizes (files of entries' outs)
        self.dirs: set[Oid] = set()  # directory manifests among entries' outs

    def fetch_runs(self, key: str) -> None:
        for found_key, entry_oid in sorted(self.store.run_markers(key)):
            marker = self.ws.cache.root / runcache.marker_relpath(found_key, entry_oid)
            if found_key != key or marker.exists():
                continue
            entry = _fetch_entry(self.ws.cache, self.store, key, entry_oid)
            for out in entry.outs:
                if out.is_dir:
                    self.dirs.add(out.oid)
                else:
                    self.sizes[out.oid] = out.size

    def fetch_objects(self, oids: list[Oid]) -> None:
        cache = self.ws.cache
        wanted = [oid for oid in dict.fromkeys(oids) if not cache.exists(oid)]
        # Unknown sizes (manifests) take the streamed path, which suits any size.
        items = [Item(oid, self.sizes.get(oid, SMALL_MAX), "run-cache out") for oid in wanted]

        def download(item: Item, on_bytes: Callable[[int], None]) -> None:
            with contextlib.suppress(ObjectNotFoundError):  # absent: the caller copes
                self.store.download(item.oid, item.size, cache, on_bytes, item.label)

        outcome = transfer.run(
            items,
            download,
            jobs=self.store.jobs,
            progress=self.ws.progress,
            description=f"Fetch from {self.store.name}",
        )
        if outcome.failed:  # corrupt on the remote: never stored, and worth stopping for
            raise IntegrityError(outcome.failed[0][1])
        for item in outcome.done:
            if item.oid in self.dirs and cache.exists(item.oid):
                for e in cache.load_manifest(item.oid):
                    self.sizes[e.oid] = e.size
