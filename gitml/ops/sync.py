"""`gitml push`, `fetch`, `pull` and `status --remote`: move objects between the cache
and a remote. Use cases only: they return data and never print.

Only objects the other side lacks move. What a remote has is learnt from one listing
(`RemoteStore.present`), never one request per object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml import fsutil, git
from gitml.errors import DirtyWorkspaceError, ObjectNotFoundError, PathError
from gitml.hashing import Oid, hash_file
from gitml.manifest import Manifest, parse_manifest
from gitml.pointer import Pointer
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.workspace import Workspace

Failure = tuple[Item, str]

if TYPE_CHECKING:
    from gitml.ops.checkout import CheckoutResult
    from gitml.ops.pipeline_sync import RunSync
    from gitml.remote.store import RemoteStore


@dataclass(frozen=True)
class Target:
    """A tracked output to transfer, whole or only some paths inside a directory."""

    output: str
    pointer: Pointer
    where: str  # names the pointer in messages ("data.gitml", "v1:data.gitml")
    subpaths: tuple[str, ...] | None = None


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


@dataclass
class OutputRemoteStatus:
    path: str
    missing: int  # objects the remote lacks
    missing_bytes: int
    not_in_cache: int  # of those, how many the local cache lacks too (cannot be pushed)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "missing_objects": self.missing,
            "missing_bytes": self.missing_bytes,
            "not_in_cache": self.not_in_cache,
        }


@dataclass
class RemoteStatus:
    remote: str
    checked: int  # objects looked at
    outputs: list[OutputRemoteStatus] = field(default_factory=list)
    runs_missing: int | None = None  # run-cache entries a push would send

    def to_json(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "checked_objects": self.checked,
            "missing_objects": sum(o.missing for o in self.outputs),
            "outputs": [o.to_json() for o in self.outputs],
            **({"runs_missing": self.runs_missing} if self.runs_missing is not None else {}),
        }


# Selecting outputs ----------------------------------------------------------------------


def open_store(ws: Workspace, name: str | None, jobs: int | None) -> RemoteStore:
    from gitml.remote import config as remote_config
    from gitml.remote.store import open_remote

    config = remote_config.resolve(ws.config, ws.gitml_dir, name)
    store = open_remote(config, ws.root, jobs)
    store.attach_cache(ws.cache)
    return store


def upload_all(
    ws: Workspace, store: RemoteStore, items: list[Item], description: str, *, chunk: bool
) -> transfer.Outcome:
    """Upload cache objects as the transfer policy says (gitml.remote.policy)."""
    from gitml.remote import policy

    return policy.upload_all(store, ws.cache, items, ws.progress, description, chunk=chunk)


def _download_all(
    ws: Workspace, store: RemoteStore, items: list[Item], description: str
) -> transfer.Outcome:
    """Fetch objects as the transfer policy says (gitml.remote.policy)."""
    from gitml.remote import policy

    return policy.download_all(store, ws.cache, items, ws.progress, description)


def _select(
    outputs: list[str],
    user_paths: list[str] | None,
    pointer_of: Callable[[str], tuple[Pointer, str]],
    context: str = "",
) -> list[Target]:
    """Targets for `user_paths` (workspace-relative) among `outputs`; all when None."""
    if not user_paths:
        return [Target(o, *pointer_of(o)) for o in outputs]
    whole: dict[str, None] = {}
    subs: dict[str, list[str]] = {}
    for rel in user_paths:
        matches = [o for o in outputs if o == rel or o.startswith(rel + "/")]
        if matches:
            whole.update(dict.fromkeys(matches))
            continue
        owner = next((o for o in outputs if rel.startswith(o + "/")), None)
        if owner is None:
            raise PathError(f"{rel} is not tracked by gitml{context}")
        subs.setdefault(owner, []).append(rel[len(owner) + 1 :])
    targets = [Target(o, *pointer_of(o)) for o in whole]
    for owner, parts in subs.items():
        if owner in whole:
            continue
        pointer, where = pointer_of(owner)
        if pointer.kind != "dir":  # pragma: no cover - a file has no paths inside it
            raise PathError(f"{owner}/{parts[0]} is not tracked by gitml{context}")
        targets.append(Target(owner, pointer, where, tuple(dict.fromkeys(parts))))
    return targets


def workspace_targets(ws: Workspace, user_paths: list[str] | None) -> list[Target]:
    """Outputs tracked by pointer files, then stage outs recorded in gitml.lock."""
    from gitml.ops.pipeline_sync import stage_outputs

    rels = [ws.relpath(p) for p in user_paths] if user_paths else None
    stage_outs = stage_outputs(ws)

    def pointer_of(output: str) -> tuple[Pointer, str]:
        if output in stage_outs:
            return stage_outs[output], f"gitml.lock ({output})"
        return ws.read_pointer(output), f"{output}.gitml"

    tracked = ws.tracked_outputs()
    tracked += [o for o in stage_outs if o not in tracked]
    return _select(tracked, rels, pointer_of)


def revision_targets(ws: Workspace, rev: str, user_paths: list[str] | None) -> list[Target]:
    """Targets from the pointer files and gitml.lock committed at `rev`, read through git,
    no checkout (stage outs marked `push: false` are not expected on a remote)."""
    from gitml.history import revision_outputs

    with git.CatFile(ws.root) as cat:
        outputs = revision_outputs(ws.root, rev, cat, pushable_only=True)
    pointers = {path: (o.pointer, o.where) for path, o in outputs.items()}
    rels = [ws.relpath(p) for p in user_paths] if user_paths else None
    return _select(sorted(pointers), rels, pointers.__getitem__, f" at {rev}")


def _gather_targets(
    ws: Workspace,
    user_paths: list[str] | None,
    revs: list[str],
    all_branches: bool,
    all_tags: bool,
) -> list[Target]:
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
class _Plan:
    files: dict[Oid, Item] = field(default_factory=dict)
    manifests: dict[Oid, Item] = field(default_factory=dict)
    manifest_entries: dict[Oid, set[Oid]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)  # outputs whose manifest is unknown
    whole_dirs: set[Oid] = field(default_factory=set)  # manifests of directories taken whole
    by_output: dict[str, list[Item]] = field(default_factory=dict)


def _entries(target: Target, manifest: Manifest) -> list[Item]:
    prefix = target.output + "/"
    if target.subpaths is None:
        return [Item(e.oid, e.size, prefix + e.relpath) for e in manifest]
    chosen = []
    for sub in target.subpaths:
        hits = [e for e in manifest if e.relpath == sub or e.relpath.startswith(sub + "/")]
        if not hits:
            raise PathError(f"{target.output}/{sub} is not in tracked directory {target.output}")
        chosen += [Item(e.oid, e.size, prefix + e.relpath) for e in hits]
    return chosen


def _plan(
    targets: Iterable[Target],
    load: Callable[[Target], Manifest | None],
    complete: Collection[Oid] = (),
) -> _Plan:
    """The objects `targets` need. Whole directories in `complete` (recorded complete on
    the remote) contribute only their manifest: their files are not even read."""
    plan = _Plan()
    for target in targets:
        pointer = target.pointer
        items: list[Item] = []
        if pointer.kind == "file":
            items.append(Item(pointer.oid, pointer.size, target.output))
            plan.files.setdefault(pointer.oid, items[-1])
        elif pointer.oid in complete and target.subpaths is None:
            items.append(Item(pointer.oid, 0, target.output))
            plan.manifests.setdefault(pointer.oid, items[-1])
            plan.manifest_entries.setdefault(pointer.oid, set())
            plan.whole_dirs.add(pointer.oid)
        else:
            manifest = load(target)
            if manifest is None:
                plan.unavailable.append(target.output)
                continue
            size = len(manifest.render())
            manifest_item = Item(pointer.oid, size, target.output)
            plan.manifests.setdefault(pointer.oid, manifest_item)
            entries = _entries(target, manifest)
            plan.manifest_entries.setdefault(pointer.oid, set()).update(e.oid for e in entries)
            if target.subpaths is None:
                plan.whole_dirs.add(pointer.oid)
            for entry in entries:
                plan.files.setdefault(entry.oid, entry)
            items = [manifest_item, *entries]
        plan.by_output.setdefault(target.output, []).extend(items)
    return plan


def _complete_dirs(store: RemoteStore, targets: list[Target]) -> tuple[set[Oid], set[Oid]]:
    """(whole directories asked about, those the remote records as complete): one small
    listing of `dirs/`."""
    asked = {t.pointer.oid for t in targets if t.pointer.kind == "dir" and t.subpaths is None}
    return asked, store.complete_dirs(asked)


def _vouched(store: RemoteStore, plan: _Plan, asked: set[Oid], complete: set[Oid]) -> set[Oid]:
    """Objects of `plan` that a `dirs/` record vouches for, so they need no listing."""
    vouched = complete | store.complete_dirs(plan.manifests.keys() - asked)
    for oid in list(vouched):
        vouched |= plan.manifest_entries[oid]
    return vouched


def _cached_manifest(ws: Workspace) -> Callable[[Target], Manifest | None]:
    def load(target: Target) -> Manifest | None:
        if not ws.cache.exists(target.pointer.oid):
            return None
        return ws.cache.load_manifest(target.pointer.oid)

    return load


# Push ------------------------------------------------------------------------------------


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
    targets = _gather_targets(ws, user_paths, revs or [], False, False)
    store.prepare_write()
    asked, complete = _complete_dirs(store, targets)
    plan = _plan(targets, _cached_manifest(ws), complete)
    cache = ws.cache
    absent = set(cache.missing(list(plan.files)))
    files = {oid: item for oid, item in plan.files.items() if oid not in absent}
    unavailable = {t.pointer.oid: t.output for t in targets if t.output in plan.unavailable}
    wanted = set(plan.files) | set(plan.manifests) | set(unavailable)
    vouched = _vouched(store, plan, asked, complete)
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
    manifests = upload_all(ws, store, ready, "Push manifests", chunk=False)
    result.transferred = outcome.done + manifests.done
    result.failed = [(i.label, reason) for i, reason in outcome.failed + manifests.failed]
    on_remote |= {i.oid for i in manifests.done}
    for oid in sorted(plan.whole_dirs - complete):
        if oid in on_remote and plan.manifest_entries[oid] <= on_remote:
            store.mark_complete(oid)
    if run_cache and not user_paths:  # a push of named paths sends only those
        _push_runs(ws, store, on_remote, result)
    from gitml.tabular.profile_sync import push_profiles

    push_profiles(ws, store, on_remote)
    return result


def _push_runs(ws: Workspace, store: RemoteStore, known: set[Oid], result: SyncResult) -> None:
    from gitml.ops.pipeline_sync import push_runs

    result.runs = push_runs(ws, store, known)
    result.failed += result.runs.failed


# Fetch -----------------------------------------------------------------------------------


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
    targets = _gather_targets(ws, user_paths, revs or [], all_branches, all_tags)
    result = _fetch_targets(ws, store, targets)
    if run_cache and not user_paths:
        _fetch_runs(ws, store, result)
    return result


def _fetch_runs(ws: Workspace, store: RemoteStore, result: SyncResult) -> None:
    from gitml.ops.pipeline_sync import fetch_runs

    result.runs = fetch_runs(ws, store)
    result.failed += result.runs.failed


def _fetch_targets(ws: Workspace, store: RemoteStore, targets: list[Target]) -> SyncResult:
    result = SyncResult(store.name)
    cache = ws.cache
    store.check_format(must_exist=True)

    # Directory manifests first: they say which files a directory needs.
    missing_manifests = {
        t.pointer.oid: Item(t.pointer.oid, 0, t.output)
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
    plan = _plan(targets, _cached_manifest(ws))
    absent = set(cache.missing(list(plan.files)))
    todo = [item for oid, item in plan.files.items() if oid in absent]
    result.already = len(plan.files) - len(todo) + len(plan.manifests) - len(first.done)
    if store.can_list and todo:
        vouched = _vouched(store, plan, set(), set())
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
    outcome = _download_all(ws, store, todo, f"Fetch from {store.name}")
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
    from gitml.ops.checkout import checkout

    store = open_store(ws, remote, jobs)
    targets = workspace_targets(ws, user_paths)
    fetched = _fetch_targets(ws, store, targets)
    if run_cache and not user_paths:
        _fetch_runs(ws, store, fetched)
    result = PullResult(fetched)
    whole = [t.output for t in targets if t.subpaths is None]
    partial = [t for t in targets if t.subpaths is not None]
    if whole or not user_paths:
        done: CheckoutResult = checkout(ws, whole if user_paths else None, force=force)
        result.restored += done.restored
        result.failed += done.failed
    if partial:
        restored, failed = place_paths(ws, partial, force=force)
        result.restored += restored
        result.failed += failed
    return result


def place_paths(
    ws: Workspace, targets: list[Target], *, force: bool
) -> tuple[list[str], list[tuple[str, str]]]:
    """Check out only some files of tracked directories (`pull`/`checkout DIR/FILE`)."""
    from gitml.outputs import place_file

    restored: list[str] = []
    failed: list[tuple[str, str]] = []
    with ws.locked():
        try:
            plan: list[tuple[Item, bool]] = []
            for target in targets:
                manifest = ws.cache.load_manifest(target.pointer.oid)
                executable = {f"{target.output}/{e.relpath}": e.executable for e in manifest}
                for item in _entries(target, manifest):
                    path = ws.abspath(item.label)
                    if path.is_file() and not path.is_symlink() and hash_file(path) == item.oid:
                        continue
                    if not ws.cache.exists(item.oid):
                        failed.append((item.label, "not in cache"))
                        continue
                    if path.exists() and not force and not _saved(ws, path):
                        raise DirtyWorkspaceError(
                            f"{ws.display(item.label)}: uncommitted changes would be "
                            "overwritten; run 'gitml commit' to keep them or use --force"
                        )
                    plan.append((item, executable[item.label]))
            linker = fsutil.Linker(ws.config.link_types)
            for item, is_exec in plan:
                path = ws.abspath(item.label)
                place_file(ws.cache, path, item.oid, is_exec, linker)
                if not path.is_symlink():
                    ws.state.put(item.label, os.stat(path), item.oid)
                restored.append(item.label)
        finally:
            ws.state.save()
    return restored, failed


def _saved(ws: Workspace, path: os.PathLike[str]) -> bool:
    """Whether a workspace file's bytes are in the cache (so overwriting it loses nothing)."""
    if not os.path.isfile(path) or os.path.islink(path):
        return os.path.islink(path)
    try:
        return ws.cache.exists(hash_file(path))
    except OSError:
        return False


# Status --remote -------------------------------------------------------------------------


def remote_status(
    ws: Workspace, remote: str | None = None, user_paths: list[str] | None = None
) -> RemoteStatus:
    """Per output, the objects the remote lacks (nothing is written anywhere)."""
    store = open_store(ws, remote, None)
    targets = workspace_targets(ws, user_paths)

    def load(target: Target) -> Manifest | None:
        oid = target.pointer.oid
        if ws.cache.exists(oid):
            return ws.cache.load_manifest(oid)
        try:
            return parse_manifest(store.read_object(oid, target.output), f"manifest {oid}")
        except ObjectNotFoundError:
            return None

    asked, complete = _complete_dirs(store, targets)
    plan = _plan(targets, load, complete)
    wanted = set(plan.files) | set(plan.manifests)
    vouched = _vouched(store, plan, asked, complete)
    present = store.present(wanted - vouched) | vouched
    status = RemoteStatus(store.name, len(wanted))
    not_cached = set(ws.cache.missing(list(wanted - present)))
    for output in sorted(set(plan.by_output) | set(plan.unavailable)):
        items = list({i.oid: i for i in plan.by_output.get(output, [])}.values())
        if output in plan.unavailable:
            status.outputs.append(OutputRemoteStatus(output, 1, 0, 1))
            continue
        lacking = [i for i in items if i.oid not in present]
        if lacking:
            status.outputs.append(
                OutputRemoteStatus(
                    output,
                    len(lacking),
                    sum(i.size for i in lacking),
                    sum(1 for i in lacking if i.oid in not_cached),
                )
            )
    if not user_paths:
        from gitml.ops.pipeline_sync import runs_missing

        status.runs_missing = runs_missing(ws, store)
    return status
