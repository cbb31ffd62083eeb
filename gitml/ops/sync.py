"""Planning what `push`, `fetch`, `pull` and `status --remote` move between the cache and
a remote, and moving it. The use cases live in ops/push.py, ops/pull.py and
ops/remote_status.py; they return data and never print.

Only objects the other side lacks move. What a remote has is learnt from one listing
(`RemoteStore.present`), never one request per object.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from gitml import git
from gitml.errors import PathError
from gitml.hashing import Oid
from gitml.manifest import Manifest
from gitml.outputs import (
    TrackedOutput,
    revision_outputs,
    select,
    selected_entries,
    workspace_outputs,
)
from gitml.remote import policy
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.remote.store import RemoteStore
from gitml.workspace import Workspace

Failure = tuple[Item, str]


@dataclass
class RunSync:
    """Run-cache markers moved by one push or fetch."""

    transferred: int = 0  # markers written to the remote (push) or to the cache (fetch)
    already: int = 0  # markers the destination already had
    skipped: int = 0  # push: entries incomplete here, or recording a `push: false` out
    objects: list[Item] = field(default_factory=list)  # push: objects uploaded for entries
    failed: list[tuple[str, str]] = field(default_factory=list)  # (entry id, reason)

    def to_json(self) -> dict[str, object]:
        return {
            "transferred": self.transferred,
            "already_present": self.already,
            "skipped": self.skipped,
            "objects": len(self.objects),
            "failed": [{"entry": e, "reason": r} for e, r in self.failed],
        }


@dataclass
class SyncResult:
    remote: str
    transferred: list[Item] = field(default_factory=list)
    already: int = 0  # objects the destination already had
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    not_in_cache: list[str] = field(default_factory=list)  # push: paths whose objects are absent
    runs: RunSync | None = None  # run-cache entries moved (docs/spec/run-cache.md)

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.transferred)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_in_cache

    def to_json(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "transferred": len(self.transferred),
            "bytes": self.bytes,
            "already_present": self.already,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "not_in_cache": self.not_in_cache,
            **({"runs": self.runs.to_json()} if self.runs is not None else {}),
        }


# Remotes and transfers -----------------------------------------------------------------


def upload_all(
    ws: Workspace,
    store: RemoteStore,
    items: list[Item],
    description: str,
    *,
    chunk: bool,
    manifests: bool = False,
) -> transfer.Outcome:
    """Upload cache objects as the transfer policy says (gitml.remote.policy)."""
    return policy.upload_all(
        store, ws.cache, items, ws.progress, description, chunk=chunk, manifests=manifests
    )


def download_all(
    ws: Workspace, store: RemoteStore, items: list[Item], description: str
) -> transfer.Outcome:
    """Fetch objects as the transfer policy says (gitml.remote.policy)."""
    return policy.download_all(store, ws.cache, items, ws.progress, description)


# Selecting outputs ---------------------------------------------------------------------


def workspace_targets(ws: Workspace, user_paths: list[str] | None) -> list[TrackedOutput]:
    """Outputs tracked by pointer files, then stage outs recorded in gitml.lock (not those
    marked `push: false`: they never leave this machine)."""
    rels = [ws.relpath(p) for p in user_paths] if user_paths else None
    return select(workspace_outputs(ws, pushable_only=True), rels)


def revision_targets(ws: Workspace, rev: str, user_paths: list[str] | None) -> list[TrackedOutput]:
    """Outputs from the pointer files and gitml.lock committed at `rev`, read through git,
    no checkout (stage outs marked `push: false` are not expected on a remote)."""
    with git.CatFile(ws.root) as cat:
        outputs = revision_outputs(ws.root, rev, cat, pushable_only=True)
    rels = [ws.relpath(p) for p in user_paths] if user_paths else None
    return select(outputs, rels, context=f" at {rev}")


def gather_targets(
    ws: Workspace,
    user_paths: list[str] | None,
    revs: list[str],
    all_branches: bool,
    all_tags: bool,
) -> list[TrackedOutput]:
    """The workspace (unless --rev was given), each --rev, and branch or tag tips."""
    commits: list[str] = list(revs)
    if all_branches:
        commits += git.ref_commits(ws.root, "refs/heads")
    if all_tags:
        commits += git.ref_commits(ws.root, "refs/tags")
    targets = [] if revs else workspace_targets(ws, user_paths)
    for rev in dict.fromkeys(commits):
        try:
            targets += revision_targets(ws, rev, user_paths)
        except PathError:
            if revs and rev in revs:
                raise
            # a PATH tracked in the workspace need not exist on every branch or tag
    return targets


# Planning which objects a set of targets needs -------------------------------------------


@dataclass
class ObjectPlan:
    files: dict[Oid, Item] = field(default_factory=dict)
    manifests: dict[Oid, Item] = field(default_factory=dict)
    manifest_entries: dict[Oid, set[Oid]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)  # outputs whose manifest is unknown
    whole_dirs: set[Oid] = field(default_factory=set)  # manifests of directories taken whole
    by_output: dict[str, list[Item]] = field(default_factory=dict)


def _entries(target: TrackedOutput, manifest: Manifest) -> list[Item]:
    return [Item(e.oid, e.size, path) for path, e in selected_entries(target, manifest)]


def plan_objects(
    targets: Iterable[TrackedOutput],
    load: Callable[[TrackedOutput], Manifest | None],
    complete: Collection[Oid] = (),
) -> ObjectPlan:
    """The objects `targets` need. Whole directories in `complete` (recorded complete on
    the remote) contribute only their manifest: their files are not even read."""
    plan = ObjectPlan()
    for target in targets:
        pointer = target.pointer
        items: list[Item] = []
        if pointer.kind == "file":
            items.append(Item(pointer.oid, pointer.size, target.path))
            plan.files.setdefault(pointer.oid, items[-1])
        elif pointer.oid in complete and target.subpaths is None:
            items.append(Item(pointer.oid, 0, target.path))
            plan.manifests.setdefault(pointer.oid, items[-1])
            plan.manifest_entries.setdefault(pointer.oid, set())
            plan.whole_dirs.add(pointer.oid)
        else:
            manifest = load(target)
            if manifest is None:
                plan.unavailable.append(target.path)
                continue
            size = len(manifest.render())
            manifest_item = Item(pointer.oid, size, target.path)
            plan.manifests.setdefault(pointer.oid, manifest_item)
            entries = _entries(target, manifest)
            plan.manifest_entries.setdefault(pointer.oid, set()).update(e.oid for e in entries)
            if target.subpaths is None:
                plan.whole_dirs.add(pointer.oid)
            for entry in entries:
                plan.files.setdefault(entry.oid, entry)
            items = [manifest_item, *entries]
        plan.by_output.setdefault(target.path, []).extend(items)
    return plan


def complete_dirs(store: RemoteStore, targets: list[TrackedOutput]) -> tuple[set[Oid], set[Oid]]:
    """(whole directories asked about, those the remote records as complete): one small
    listing of `dirs/`."""
    asked = {t.pointer.oid for t in targets if t.pointer.kind == "dir" and t.subpaths is None}
    return asked, store.complete_dirs(asked)


def vouched_objects(
    store: RemoteStore, plan: ObjectPlan, asked: set[Oid], complete: set[Oid]
) -> set[Oid]:
    """Objects of `plan` that a `dirs/` record vouches for, so they need no listing."""
    vouched = complete | store.complete_dirs(plan.manifests.keys() - asked)
    for oid in list(vouched):
        vouched |= plan.manifest_entries[oid]
    return vouched


def cached_manifest(ws: Workspace) -> Callable[[TrackedOutput], Manifest | None]:
    def load(target: TrackedOutput) -> Manifest | None:
        if not ws.cache.exists(target.pointer.oid):
            return None
        return ws.cache.load_manifest(target.pointer.oid)

    return load
