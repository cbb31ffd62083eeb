"""`gitml fetch` and `gitml pull` (and `repro --pull`'s missing deps): download what
the selected outputs need into the cache, then put them in place (gitml.restore). Use
cases: they return data and never print."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from gitml.errors import PipelineError
from gitml.ops.pipeline_sync import fetch_runs
from gitml.ops.sync import (
    SyncResult,
    cached_manifest,
    download_all,
    gather_targets,
    plan_objects,
    vouched_objects,
    workspace_targets,
)
from gitml.outputs import TrackedOutput, workspace_outputs
from gitml.pipeline.repro_plan import ReproOptions, load, select
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.remote.store import RemoteStore
from gitml.repo import open_store
from gitml.restore import restore
from gitml.workspace import Workspace


@dataclass
class PullResult:
    fetch: SyncResult
    restored: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # checkout failures

    def to_json(self) -> dict[str, object]:
        return {
            **self.fetch.to_json(),
            "restored": self.restored,
            "checkout_failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


def fetch(
    ws: Workspace,
    remote: str | None = None,
    user_paths: list[str] | None = None,
    *,
    revs: list[str] | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    jobs: int | None = None,
    run_cache: bool = True,
) -> SyncResult:
    """Download into the cache the objects that the selected outputs need and it lacks."""
    store = open_store(ws, remote, jobs)
    targets = gather_targets(ws, user_paths, revs or [], all_branches, all_tags)
    result = fetch_targets(ws, store, targets)
    if run_cache and not user_paths:
        _fetch_runs(ws, store, result)
    return result


def _fetch_runs(ws: Workspace, store: RemoteStore, result: SyncResult) -> None:
    result.runs = fetch_runs(ws, store)
    result.failed += result.runs.failed


def fetch_targets(ws: Workspace, store: RemoteStore, targets: list[TrackedOutput]) -> SyncResult:
    result = SyncResult(store.name)
    cache = ws.cache
    store.check_format(must_exist=True)

    # Directory manifests first: they say which files a directory needs.
    missing_manifests = {
        t.pointer.oid: Item(t.pointer.oid, 0, t.path)
        for t in targets
        if t.pointer.kind == "dir" and not cache.exists(t.pointer.oid)
    }

    def fetch_manifest(item: Item, _on_bytes: Callable[[int], None]) -> None:
        cache.add_bytes(store.read_object(item.oid, item.label), item.oid)

    first = transfer.run(
        list(missing_manifests.values()),
        fetch_manifest,
        jobs=store.jobs,
        progress=ws.progress,
        description=f"Fetch manifests from {store.name}",
    )
    result.failed += [(i.label, reason) for i, reason in first.failed]
    plan = plan_objects(targets, cached_manifest(ws))
    absent = set(cache.missing(list(plan.files)))
    todo = [item for oid, item in plan.files.items() if oid in absent]
    result.already = len(plan.files) - len(todo) + len(plan.manifests) - len(first.done)
    if store.can_list and todo:
        vouched = vouched_objects(store, plan, set(), set())
        present = store.present({i.oid for i in todo} - vouched) | vouched
        for item in todo:
            if item.oid not in present:
                result.failed.append(
                    (
                        item.label,
                        f"object {item.oid} ({item.label}) is not on remote '{store.name}'",
                    )
                )
        todo = [i for i in todo if i.oid in present]
    outcome = download_all(ws, store, todo, f"Fetch from {store.name}")
    manifests = [Item(i.oid, os.path.getsize(cache.path(i.oid)), i.label) for i in first.done]
    result.transferred = manifests + outcome.done
    result.failed += [(i.label, reason) for i, reason in outcome.failed]
    return result


# Pull ------------------------------------------------------------------------------------


def pull(
    ws: Workspace,
    remote: str | None = None,
    user_paths: list[str] | None = None,
    *,
    jobs: int | None = None,
    force: bool = False,
    run_cache: bool = True,
) -> PullResult:
    """Fetch, then check out the selected outputs (or only the named files inside a
    tracked directory)."""
    store = open_store(ws, remote, jobs)
    targets = workspace_targets(ws, user_paths)
    fetched = fetch_targets(ws, store, targets)
    if run_cache and not user_paths:
        _fetch_runs(ws, store, fetched)
    result = PullResult(fetched)
    with ws.locked():
        chosen = targets if user_paths else list(workspace_outputs(ws).values())
        done = restore(ws, chosen, force=force, everything=not user_paths)
    result.restored += done.restored
    result.failed += done.failed
    return result


def pull_missing_deps(
    ws: Workspace, remote: str | None, options: ReproOptions, jobs: int | None = None
) -> list[str]:
    """Before `repro --pull`: check out, fetching what the cache lacks, the deps of the
    selected stages that are missing from the workspace and tracked by pointer files.
    Deps present in the workspace are left alone (they may hold the user's edits)."""
    pipeline, graph = load(ws)
    tracked = ws.tracked_outputs()
    wanted: dict[str, None] = {}
    for name in select(pipeline, graph, options):
        for dep in pipeline.stages[name].deps:
            if os.path.lexists(ws.root / dep):
                continue
            for output in tracked:
                if output == dep or dep.startswith(output + "/"):
                    wanted[dep] = None
                elif output.startswith(dep + "/") and not os.path.lexists(ws.root / output):
                    wanted[output] = None
    if not wanted:
        return []
    result = pull(ws, remote, [str(ws.root / p) for p in wanted], jobs=jobs, run_cache=False)
    problems = result.fetch.failed + result.failed
    if problems:
        path, reason = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise PipelineError(f"could not pull dependency {path}: {reason}{more}")
    return result.restored
