"""`gitml push`: upload the objects of tracked outputs (and run-cache entries) that the
remote lacks. A use case: returns data, never prints."""

from __future__ import annotations

from gitml.hashing import Oid
from gitml.ops.pipeline_sync import push_runs
from gitml.ops.sync import (
    SyncResult,
    cached_manifest,
    complete_dirs,
    gather_targets,
    plan_objects,
    upload_all,
    vouched_objects,
)
from gitml.remote.store import RemoteStore
from gitml.repo import open_store
from gitml.tabular.profile_sync import push_profiles
from gitml.workspace import Workspace


def push(
    ws: Workspace,
    remote: str | None = None,
    user_paths: list[str] | None = None,
    *,
    run_cache: bool = True,
    jobs: int | None = None,
    revs: list[str] | None = None,
) -> SyncResult:
    """Upload the objects of the workspace's tracked outputs (or, with `revs`, of the
    outputs committed at those git revisions) that the remote lacks.

    A directory's manifest goes up after the selected files of it did (never before), but
    a manifest on a remote does not promise that all its files are there: `push DIR/FILE`
    uploads that file and the manifest only. Once a whole directory is up, a `dirs/`
    record says so, and later pushes and status checks skip listing its files. An object
    missing from the local cache is reported in `not_in_cache` only when the remote lacks
    it too.
    """
    store = open_store(ws, remote, jobs)
    result = SyncResult(store.name)
    targets = gather_targets(ws, user_paths, revs or [], False, False)
    store.prepare_write()
    asked, complete = complete_dirs(store, targets)
    plan = plan_objects(targets, cached_manifest(ws), complete)
    cache = ws.cache
    absent = set(cache.missing(list(plan.files)))
    files = {oid: item for oid, item in plan.files.items() if oid not in absent}
    unavailable = {t.pointer.oid: t.path for t in targets if t.path in plan.unavailable}
    wanted = set(plan.files) | set(plan.manifests) | set(unavailable)
    vouched = vouched_objects(store, plan, asked, complete)
    present = (store.present_for_upload(wanted - vouched) | vouched) & wanted
    result.not_in_cache = sorted(
        {out for oid, out in unavailable.items() if oid not in present}
        | {i.label for oid, i in plan.files.items() if oid not in files and oid not in present}
    )
    result.already = len(present)

    todo = [i for oid, i in files.items() if oid not in present]
    outcome = upload_all(ws, store, todo, f"Push to {store.name}", chunk=True)
    on_remote = present | {i.oid for i in outcome.done}
    ready = [
        item
        for oid, item in plan.manifests.items()
        if oid not in present and plan.manifest_entries[oid] <= on_remote
    ]
    manifests = upload_all(ws, store, ready, "Push manifests", chunk=False, manifests=True)
    result.transferred = outcome.done + manifests.done
    result.failed = [(i.label, reason) for i, reason in outcome.failed + manifests.failed]
    on_remote |= {i.oid for i in manifests.done}
    for oid in sorted(plan.whole_dirs - complete):
        if oid in on_remote and plan.manifest_entries[oid] <= on_remote:
            store.mark_complete(oid)
    if run_cache and not user_paths:  # a push of named paths sends only those
        _push_runs(ws, store, on_remote, result)

    push_profiles(ws, store, on_remote)
    return result


def _push_runs(ws: Workspace, store: RemoteStore, known: set[Oid], result: SyncResult) -> None:

    result.runs = push_runs(ws, store, known)
    result.failed += result.runs.failed
