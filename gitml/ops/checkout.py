"""`gitml checkout`: make the workspace match the pointer files.

Never destroys data that exists nowhere else: a file about to be overwritten or removed
whose content is not in the cache makes the whole checkout refuse (before any change)
unless `force` is given.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from gitml import fsutil
from gitml.checkout_journal import CheckoutJournal
from gitml.errors import DirtyWorkspaceError, FormatError, GitmlError, PathError
from gitml.hashing import Oid
from gitml.manifest import Manifest
from gitml.outputs import (
    Observed,
    known_dir_pointer,
    observe,
    place_dir,
    place_file,
    shares_inode_with_cache,
)
from gitml.pointer import Pointer
from gitml.workspace import Workspace


@dataclass
class CheckoutResult:
    restored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


@dataclass
class _Plan:
    relpath: str
    pointer: Pointer
    observed: Observed
    manifest: Manifest | None


def _wanted(plan: _Plan) -> dict[str, Oid]:
    if plan.manifest is not None:
        prefix = plan.relpath + "/"
        return {prefix + e.relpath: e.oid for e in plan.manifest}
    return {plan.relpath: plan.pointer.oid}


def _drop_edited_links(ws: Workspace, plan: _Plan) -> None:
    """A hardlinked file edited in place changed the object it shares an inode with:
    drop that object so it is never served under its old id (docs/design.md)."""
    wanted = _wanted(plan)
    for f in plan.observed.files:
        oid = wanted.get(f.relpath)
        if oid is not None and f.oid != oid and shares_inode_with_cache(f, ws.cache, oid):
            ws.cache.quarantine(oid)


def _unsaved(ws: Workspace, plan: _Plan, leftovers: set[str]) -> list[str]:
    """Workspace files the checkout would overwrite or delete whose bytes are not cached."""
    wanted = _wanted(plan)
    lost = []
    for f in plan.observed.files:
        if wanted.get(f.relpath) == f.oid or f.relpath in leftovers:
            continue
        if f.oid is None or not ws.cache.exists(f.oid):
            lost.append(f.relpath)
    return lost


def _missing_objects(ws: Workspace, plan: _Plan) -> int:
    if plan.manifest is None:
        return 0 if ws.cache.exists(plan.pointer.oid) else 1
    return len(ws.cache.missing([e.oid for e in plan.manifest]))


def _stage_outputs(ws: Workspace) -> dict[str, Pointer]:
    """Cached outs of pipeline stages as recorded in gitml.lock."""
    from gitml.pipeline.project import lock_outputs

    return {path: pointer for path, pointer, _ in lock_outputs(ws.root)}


def checkout(
    ws: Workspace, user_paths: list[str] | None = None, *, force: bool = False
) -> CheckoutResult:
    result = CheckoutResult()
    with ws.locked():
        tracked = ws.tracked_outputs()
        stage_outs = _stage_outputs(ws)
        tracked += [r for r in stage_outs if r not in tracked]
        inside: dict[str, list[str]] = {}  # tracked directory -> paths inside it
        if user_paths:
            relpaths = []
            for p in user_paths:
                rel = ws.relpath(p)
                matches = [t for t in tracked if t == rel or t.startswith(rel + "/")]
                owner = next((t for t in tracked if rel.startswith(t + "/")), None)
                if matches:
                    relpaths.extend(matches)
                elif owner is not None:
                    inside.setdefault(owner, []).append(rel[len(owner) + 1 :])
                else:
                    raise PathError(f"{ws.display(rel)} is not tracked by gitml")
            inside = {o: parts for o, parts in inside.items() if o not in relpaths}
        else:
            relpaths = tracked
        plans: list[_Plan] = []
        journal = CheckoutJournal(ws.tmp_dir)
        try:
            for relpath in dict.fromkeys(relpaths):
                pointer = stage_outs.get(relpath) or ws.read_pointer(relpath)
                path = ws.abspath(relpath)
                if pointer.kind == "dir" and known_dir_pointer(relpath, path, ws.state) == pointer:
                    result.unchanged.append(relpath)
                    continue
                observed = observe(relpath, path, ws.cache, ws.state, ws.progress)
                if observed.kind == pointer.kind and observed.pointer() == pointer:
                    result.unchanged.append(relpath)
                    continue
                manifest = None
                if pointer.kind == "dir":
                    if not ws.cache.exists(pointer.oid):
                        result.failed.append((relpath, "not in cache"))
                        continue
                    manifest = ws.cache.load_manifest(pointer.oid)
                    if manifest.size != pointer.size or manifest.nfiles != pointer.nfiles:
                        raise FormatError(
                            f"{relpath}.gitml: size/nfiles disagree with manifest {pointer.oid}"
                        )
                plan = _Plan(relpath, pointer, observed, manifest)
                _drop_edited_links(ws, plan)
                plans.append(plan)
            if not force:
                for plan in plans:
                    lost = _unsaved(ws, plan, journal.leftovers)
                    if lost:
                        more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
                        raise DirtyWorkspaceError(
                            f"{ws.display(lost[0])}{more}: uncommitted changes would be "
                            "overwritten; run 'gitml commit' to keep them or use --force",
                        )
            linker = fsutil.Linker(ws.config.link_types)
            for plan in plans:
                missing = _missing_objects(ws, plan)
                if missing:
                    result.failed.append((plan.relpath, f"{missing} object(s) not in cache"))
                    continue
                try:
                    _apply(ws, plan, linker, journal)
                except OSError as exc:
                    raise GitmlError(
                        f"{ws.display(plan.relpath)}: checkout failed: {exc.strerror or exc}"
                    ) from exc
                result.restored.append(plan.relpath)
            failed = [relpath for relpath, _ in result.failed]
            if user_paths:  # outputs not checked out keep their leftovers
                done = result.restored + result.unchanged
                placed = set(journal.leftovers_under(done))
                keep = [r for r in journal.leftovers if r not in placed]
            else:
                keep = journal.leftovers_under(failed)
            journal.finish(keep)
        finally:
            ws.state.save()
    if inside:
        _checkout_inside(ws, inside, stage_outs, result, force=force)
    return result


def _checkout_inside(
    ws: Workspace,
    inside: dict[str, list[str]],
    stage_outs: dict[str, Pointer],
    result: CheckoutResult,
    *,
    force: bool,
) -> None:
    """Files inside tracked directories, placed one by one as `pull DIR/FILE` does."""
    from gitml.ops.sync import Target, place_paths

    targets = []
    for owner, parts in inside.items():
        pointer = stage_outs.get(owner) or ws.read_pointer(owner)
        if pointer.kind != "dir":
            raise PathError(f"{ws.display(owner + '/' + parts[0])} is not tracked by gitml")
        if not ws.cache.exists(pointer.oid):
            result.failed.append((owner, "not in cache"))
            continue
        targets.append(Target(owner, pointer, f"{owner}.gitml", tuple(dict.fromkeys(parts))))
    restored, failed = place_paths(ws, targets, force=force)
    result.restored += restored
    result.failed += failed


def _apply(ws: Workspace, plan: _Plan, linker: fsutil.Linker, journal: CheckoutJournal) -> None:
    target = ws.abspath(plan.relpath)
    total = plan.pointer.size
    with ws.progress.task(f"Checkout {plan.relpath}", total, unit="bytes") as task:
        if plan.manifest is None:
            place_file(
                ws.cache,
                target,
                plan.pointer.oid,
                plan.pointer.executable,
                linker,
            )
            task.advance(plan.pointer.size)
            if not target.is_symlink():
                ws.state.put(plan.relpath, os.stat(target), plan.pointer.oid)
            return
        current = plan.observed.files if plan.observed.kind == "dir" else []
        if plan.observed.kind == "file":
            (target).unlink()
        placed = place_dir(
            ws.cache,
            plan.relpath,
            target,
            plan.manifest,
            current,
            linker,
            task.advance,
            journal=journal.record,
        )
        for rel, path, oid in placed.placed:
            st = os.lstat(path)
            if not stat.S_ISLNK(st.st_mode):
                ws.state.put(rel, st, oid)
