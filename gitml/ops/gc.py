"""`gitml gc`: delete cache objects that nothing references (and, asked, remote ones).

What counts as referenced, by mode:

- default: the pointer files (and `gitml.lock` outs) at the tip of every ref (branches,
  tags, remote-tracking branches, the stash with its index and untracked-files commits)
  and HEAD, every worktree's git index (staged pointers), the work tree's pointers, and
  the run-cache;
- `all-commits`: the same, but every commit reachable from any ref or reflog;
- `workspace`: the work tree's pointers and `gitml.lock` only (run-cache markers whose
  objects are not all kept are dropped with them).

Git objects are found with one `git rev-list --objects` and read through one
`git cat-file --batch`. `rev-list` names each blob by one path only, so pointer files
are recognised by content (every blob of at most 1 KiB that starts with
`gitml-pointer: 1`), never by name; a `gitml.lock` by its name. A directory's files are
read from its manifest (cache, else the remote); a directory whose manifest is nowhere
is reported, and then its files are not known to be referenced.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import git, git_objects, pipeline_refs
from gitml.errors import FormatError, GitmlError, ObjectNotFoundError, RemoteError
from gitml.hashing import Oid
from gitml.objects import ObjectSource
from gitml.outputs import recorded_lock_outs, workspace_outputs
from gitml.pointer import MAX_POINTER_BYTES, Pointer, parse_pointer
from gitml.repo import DataRepo
from gitml.tabular import profile_store
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore

MODES = ("default", "workspace", "all-commits")
TMP_MAX_AGE = 24 * 3600
_POINTER_MAGIC = b"gitml-pointer: "
_POINTER_V1 = b"gitml-pointer: 1\n"


@dataclass
class GcPlan:
    mode: str
    keep: set[Oid] = field(default_factory=set)
    remove: list[tuple[Oid, int]] = field(default_factory=list)  # local (oid, bytes)
    kept: int = 0  # local objects that stay
    pointers: int = 0  # distinct pointers (and lock outs) looked at
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    skipped: list[str] = field(default_factory=list)  # malformed old pointers, not followed
    stale_tmp: list[tuple[Path, int]] = field(default_factory=list)
    drop_markers: list[pipeline_refs.RunRef] = field(default_factory=list)
    run_entries: int = 0  # run-cache markers kept
    remote: str | None = None
    remote_remove: list[Oid] = field(default_factory=list)
    remote_unmark: list[Oid] = field(default_factory=list)  # directory records to drop first
    remote_kept: int = 0
    remote_keep: set[Oid] = field(default_factory=set)  # format 2: what repack keeps
    profiles_remove: list[tuple[tuple[Path, ...], int]] = field(default_factory=list)
    profiles_kept: int = 0

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.remove)

    def to_json(self, *, dry: bool) -> dict[str, object]:
        data: dict[str, object] = {
            "mode": self.mode,
            "dry": dry,
            "removed" if not dry else "would_remove": len(self.remove),
            "bytes": self.bytes,
            "kept": self.kept,
            "objects": [{"oid": str(o), "size": s} for o, s in self.remove],
            "tmp_files": len(self.stale_tmp),
            "run_cache_markers_dropped": len(self.drop_markers),
            "profiles": {
                "removed" if not dry else "would_remove": len(self.profiles_remove),
                "bytes": sum(size for _, size in self.profiles_remove),
                "kept": self.profiles_kept,
            },
            "unknown": [{"where": w, "reason": r} for w, r in self.unknown],
            "skipped": self.skipped,
        }
        if self.remote is not None:
            data["remote"] = {
                "name": self.remote,
                "removed" if not dry else "would_remove": len(self.remote_remove),
                "kept": self.remote_kept,
                "objects": [str(o) for o in self.remote_remove],
            }
        return data


class _Collector:
    """Adds every object a pointer needs to `plan.keep`, reading manifests once each."""

    def __init__(self, plan: GcPlan, source: ObjectSource) -> None:
        self.plan = plan
        self.source = source
        self._seen: set[tuple[str, Oid]] = set()

    def add(self, pointer: Pointer, where: str) -> bool:
        """Keep what `pointer` needs; False when a directory's files cannot be listed."""
        self.plan.keep.add(pointer.oid)
        if (pointer.kind, pointer.oid) in self._seen:
            return True
        self._seen.add((pointer.kind, pointer.oid))
        self.plan.pointers += 1
        if pointer.kind != "dir":
            return True
        try:
            manifest = self.source.manifest(pointer.oid, where)
        except (ObjectNotFoundError, RemoteError) as exc:
            self.plan.unknown.append((where, exc.message))
            return False
        self.plan.keep.update(e.oid for e in manifest)
        return True


def plan(
    ws: Workspace, mode: str = "default", remote: str | None = None, *, now: float | None = None
) -> GcPlan:
    """Work out what gc would delete; nothing is changed."""
    if mode not in MODES:
        raise GitmlError(f"unknown gc mode {mode!r}")
    result = GcPlan(mode, remote=remote)
    with DataRepo.for_workspace(ws) as repo:
        source = _manifest_source(repo, ws, remote)
        collector = _Collector(result, source)
        for output in workspace_outputs(ws).values():
            collector.add(output.pointer, output.where)
        for output in recorded_lock_outs(ws.root):
            collector.add(output.pointer, output.where)
        if mode != "workspace":
            _from_git(ws.root, mode == "all-commits", repo.cat, collector)
        _run_cache(ws, collector)
        _local(ws, result)
        _profiles(ws, result)
        result.stale_tmp = _stale_tmp(ws.cache.tmp_dir, time.time() if now is None else now)
        if remote is not None:
            _remote(source.store(), result, source)
    return result


def _manifest_source(repo: DataRepo, ws: Workspace, remote: str | None) -> ObjectSource:
    """Manifests from the cache, else the named (or default) remote when there is one."""
    from gitml.remote import config as remote_config

    has_remote = remote is not None or bool(remote_config.default_name(ws.config))
    opener = (lambda: repo.open_store(remote)) if has_remote else None
    return ObjectSource(ws.cache, opener)


def _from_git(root: Path, all_commits: bool, cat: git.CatFile, collector: _Collector) -> None:
    commits = (
        [] if all_commits else git_objects.all_ref_commits(root) + git_objects.stash_commits(root)
    )
    objects = git_objects.reachable_objects(root, all_commits=all_commits, commits=commits)
    named = {oid: path for oid, path in objects if path is not None}
    sizes = git_objects.object_sizes(root, list(named))
    small = [o for o, (kind, size) in sizes.items() if kind == "blob" and size <= MAX_POINTER_BYTES]
    locks = [
        o
        for o, (kind, _) in sizes.items()
        if kind == "blob" and named[o].rsplit("/", 1)[-1] == pipeline_refs.LOCK_FILE
    ]
    contents = cat.read_many(small + locks)
    for oid in small:
        data = contents.get(oid, ("", b""))[1]
        if data.startswith(_POINTER_MAGIC):
            _pointer_blob(collector, data, f"{named[oid]} (git blob {oid[:12]})")
    for oid in locks:
        where = f"{named[oid]} (git blob {oid[:12]})"
        try:
            outs = pipeline_refs.lock_outs(contents.get(oid, ("", b""))[1], where)
        except FormatError as exc:
            collector.plan.skipped.append(exc.message)
            continue
        for path, pointer in outs:
            collector.add(pointer, f"{where}: {path}")


def _pointer_blob(collector: _Collector, data: bytes, where: str) -> None:
    if not data.startswith(_POINTER_V1):
        raise GitmlError(
            f"{where}: pointer written by a newer gitml; gc cannot tell what it references",
            hint="upgrade gitml before running gc",
        )
    try:
        pointer = parse_pointer(data, where)
    except FormatError as exc:
        collector.plan.skipped.append(exc.message)
        return
    collector.add(pointer, where)


def _run_cache(ws: Workspace, collector: _Collector) -> None:
    """Run-cache markers keep their entry and outs; under --workspace only if all of it
    is kept anyway, else the marker goes (the stage just runs again)."""
    plan = collector.plan
    for ref in pipeline_refs.run_cache(ws.cache):
        if plan.mode == "workspace":
            needed = {ref.entry_oid, *(p.oid for p in ref.outs or ())}
            complete = ref.outs is not None and (needed - {ref.entry_oid}) <= plan.keep
            if not complete:
                plan.drop_markers.append(ref)
                continue
        plan.keep.add(ref.entry_oid)
        plan.run_entries += 1
        for pointer in ref.outs or ():
            collector.add(pointer, f"run-cache entry {ref.entry_oid}")


def _local(ws: Workspace, plan: GcPlan) -> None:
    for oid in ws.cache.iter_oids():
        if oid in plan.keep:
            plan.kept += 1
            continue
        try:
            size = os.stat(ws.cache.path(oid)).st_size
        except FileNotFoundError:
            continue
        plan.remove.append((oid, size))
    plan.remove.sort()


def _profiles(ws: Workspace, plan: GcPlan) -> None:
    """Stored profiles live as long as the data they describe (a folder's, as long as the
    tracked directory it lies in)."""
    for found in profile_store.stored(ws.cache.root):
        if found.owner is not None and found.owner in plan.keep:
            plan.profiles_kept += 1
        else:
            plan.profiles_remove.append((found.files, found.size))


def _stale_tmp(tmp_dir: Path, now: float) -> list[tuple[Path, int]]:
    stale = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(tmp_dir):
            with contextlib.suppress(FileNotFoundError):
                st = entry.stat(follow_symlinks=False)
                if now - st.st_mtime > TMP_MAX_AGE and not entry.is_dir(follow_symlinks=False):
                    stale.append((Path(entry.path), st.st_size))
    return stale


def _remote(store: RemoteStore, plan: GcPlan, source: ObjectSource) -> None:
    """Remote objects to delete: those nothing references, once every directory's files
    are known and every remote run-cache marker's entry is readable."""
    if plan.unknown:
        where, why = plan.unknown[0]
        raise GitmlError(
            f"refusing to clean remote '{store.name}': cannot list the files of {where} ({why})",
            hint="gc of a remote needs every referenced directory's manifest",
        )
    keep = set(plan.keep)
    keep |= _remote_run_cache(store, source, keep)
    plan.remote_keep = keep
    for oid in sorted(store.iter_all_oids()):  # loose, packed and chunked
        if oid in keep:
            plan.remote_kept += 1
        else:
            plan.remote_remove.append(oid)
    plan.remote_remove.sort()
    # A record promises a manifest's files are all there (docs/spec/remote.md): a kept
    # manifest keeps all its files, so only records of unkept manifests can lie.
    plan.remote_unmark = sorted(set(store.iter_complete_dirs()) - keep)


def _remote_run_cache(store: RemoteStore, source: ObjectSource, keep: set[Oid]) -> set[Oid]:
    """Objects that the remote's run-cache markers need (all markers are kept)."""
    needed: set[Oid] = set()
    for entry_oid in sorted({entry for _key, entry in store.run_markers()}):
        needed.add(entry_oid)
        data = (
            source.cache.read_bytes(entry_oid)
            if source.has_local(entry_oid) and source.cache is not None
            else _read_remote(store, entry_oid)
        )
        outs = pipeline_refs.entry_outs(data, entry_oid) if data is not None else None
        if outs is None:
            raise GitmlError(
                f"refusing to clean remote '{store.name}': run-cache entry {entry_oid} "
                "cannot be read, so what it needs is unknown"
            )
        for pointer in outs:
            needed.add(pointer.oid)
            if pointer.kind == "dir":
                needed.update(e.oid for e in source.manifest(pointer.oid, f"run {entry_oid}"))
    return needed - keep


def _read_remote(store: RemoteStore, oid: Oid) -> bytes | None:
    try:
        return store.read_object(oid)
    except (ObjectNotFoundError, GitmlError):
        return None


# Deleting ------------------------------------------------------------------------------


@dataclass
class GcResult:
    removed: int = 0
    bytes: int = 0
    tmp_removed: int = 0
    profiles_removed: int = 0
    markers_removed: int = 0
    remote_removed: int = 0


def execute(ws: Workspace, plan: GcPlan, store: RemoteStore | None = None) -> GcResult:
    """Delete what `plan` lists; run-cache markers go before the objects they name."""
    result = GcResult()
    for ref in plan.drop_markers:
        pipeline_refs.remove_marker(ref)
        result.markers_removed += 1
    for oid, size in plan.remove:
        if oid in plan.keep:  # never, by construction; checked again because it is cheap
            continue
        try:
            os.unlink(ws.cache.path(oid))
        except FileNotFoundError:
            continue
        result.removed += 1
        result.bytes += size
    for files, _ in plan.profiles_remove:
        for path in files:  # the profile before its owner file (profile_store.save)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        result.profiles_removed += 1
    for path, _ in plan.stale_tmp:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            result.tmp_removed += 1
    if store is not None and plan.remote_remove:
        for batch in _batches(plan.remote_unmark, 1000):
            store.unmark_complete(batch)
        for batch in _batches(plan.remote_remove, 1000):
            store.remove(batch)
            result.remote_removed += len(batch)
        store.repack(plan.remote_keep)  # format 2: packs and chunk lists (remote.md)
    return result


def _batches(items: list[Oid], size: int) -> Iterable[list[Oid]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
