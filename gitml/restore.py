"""Placing tracked outputs from the cache into the workspace: `restore` is the one way
checkout, pull, repro and exp apply put bytes in place, with the one "would this lose
data?" check (`unsaved`).

Never destroys data that exists nowhere else: a file about to be overwritten or removed
whose content is not in the cache makes the whole restore refuse, before any change,
unless `force` is given. Files created in place are journaled first (gitml.checkout_journal)
so an interrupted restore can tell its own torn files from user edits.
"""

from __future__ import annotations

import contextlib
import os
import stat as stat_mod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitml import fsutil
from gitml.cache import Cache
from gitml.checkout_journal import CheckoutJournal
from gitml.errors import DirtyWorkspaceError, FormatError, GitmlError
from gitml.hashing import Oid
from gitml.manifest import Entry, Manifest
from gitml.outputs import TrackedOutput, selected_entries
from gitml.scan import (
    ObservedFile,
    hash_files,
    known_dir_pointer,
    object_executable,
    observe,
    shares_inode_with_cache,
    sibling_temp,
)
from gitml.workspace import Workspace


@dataclass
class RestoreResult:
    restored: list[str] = field(default_factory=list)  # outputs (or files inside one) placed
    unchanged: list[str] = field(default_factory=list)  # outputs that already matched
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


@dataclass
class _Plan:
    """One output to put in place: whole, or only the selected files of a directory."""

    output: TrackedOutput
    observed: list[ObservedFile]  # what is on disk now where the plan writes
    manifest: Manifest | None  # a directory's
    wanted: dict[str, Entry | None]  # path -> entry (None: a file output, see `output`)
    kind: str = "missing"  # what stands at the output's path now: file, dir or missing


def unsaved(
    cache: Cache, files: Iterable[ObservedFile], wanted: Mapping[str, Oid], leftovers: set[str]
) -> list[str]:
    """The files a restore would overwrite or delete whose bytes are in no cache: what it
    would lose. A file that already holds what is wanted, a journaled leftover of an
    interrupted restore, and a symlink (it holds no bytes of its own) lose nothing."""
    lost = []
    for f in files:
        if wanted.get(f.relpath) == f.oid or f.relpath in leftovers:
            continue
        if f.linked_oid is not None or stat_mod.S_ISLNK(f.st.st_mode):
            continue
        if f.oid is None or not cache.exists(f.oid):
            lost.append(f.relpath)
    return lost


def restore(
    ws: Workspace,
    outputs: Sequence[TrackedOutput],
    *,
    force: bool = False,
    everything: bool = False,
) -> RestoreResult:
    """Make the workspace hold `outputs` (whole, or the `subpaths` of a directory) as the
    cache has them. The caller holds the workspace lock. `everything`: these are all the
    outputs of the workspace, so journaled leftovers elsewhere are stale."""
    result = RestoreResult()
    journal = CheckoutJournal(ws.tmp_dir)
    try:
        plans = [p for o in outputs if (p := _plan(ws, o, result)) is not None]
        for plan in plans:
            _drop_edited_links(ws.cache, plan)
        if not force:
            for plan in plans:
                lost = unsaved(ws.cache, plan.observed, _wanted_oids(plan), journal.leftovers)
                if lost:
                    more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
                    raise DirtyWorkspaceError(
                        f"{ws.display(lost[0])}{more}: uncommitted changes would be "
                        "overwritten; run 'gitml commit' to keep them or use --force",
                    )
        linker = fsutil.Linker(ws.config.link_types)
        for plan in plans:
            if plan.output.subpaths is not None:
                _place_selected(ws, plan, linker, result)
                continue
            missing = _missing_objects(ws.cache, plan)
            if missing:
                result.failed.append((plan.output.path, f"{missing} object(s) not in cache"))
                continue
            try:
                _place_whole(ws, plan, linker, journal)
            except OSError as exc:
                raise GitmlError(
                    f"{ws.display(plan.output.path)}: checkout failed: {exc.strerror or exc}"
                ) from exc
            result.restored.append(plan.output.path)
        whole = [o.path for o in outputs if o.subpaths is None]
        if everything:
            keep = journal.leftovers_under([p for p, _ in result.failed])
        else:  # outputs not restored keep their leftovers
            done = [p for p in result.restored + result.unchanged if p in whole]
            placed = set(journal.leftovers_under(done))
            keep = [r for r in journal.leftovers if r not in placed]
        journal.finish(keep)
    finally:
        ws.state.save()
    return result


def _plan(ws: Workspace, output: TrackedOutput, result: RestoreResult) -> _Plan | None:
    """What restoring `output` involves; None when it needs nothing (or cannot be done,
    noted in `result`)."""
    relpath, pointer = output.path, output.pointer
    path = ws.abspath(relpath)
    manifest = None
    if pointer.kind == "dir":
        if output.subpaths is None and known_dir_pointer(relpath, path, ws.state) == pointer:
            result.unchanged.append(relpath)
            return None
        if not ws.cache.exists(pointer.oid):
            result.failed.append((relpath, "not in cache"))
            return None
        manifest = ws.cache.load_manifest(pointer.oid)
        if manifest.size != pointer.size or manifest.nfiles != pointer.nfiles:
            raise FormatError(f"{output.where}: size/nfiles disagree with manifest {pointer.oid}")
    if output.subpaths is not None:
        assert manifest is not None
        return _plan_selected(ws, output, manifest, result)
    observed = observe(relpath, path, ws.cache, ws.state, ws.progress)
    if observed.kind == pointer.kind and observed.pointer() == pointer:
        result.unchanged.append(relpath)
        return None
    if manifest is None:
        wanted: dict[str, Entry | None] = {relpath: None}
    else:
        wanted = dict(selected_entries(output, manifest))
    return _Plan(output, observed.files, manifest, wanted, observed.kind)


def _plan_selected(
    ws: Workspace, output: TrackedOutput, manifest: Manifest, result: RestoreResult
) -> _Plan | None:
    """Some files of a directory output: those that differ from the cache's and whose
    object the cache holds (the others are noted as failed)."""
    wanted: dict[str, Entry | None] = {}
    regular: list[ObservedFile] = []
    others: list[ObservedFile] = []
    for rel, found in selected_entries(output, manifest):
        path = ws.abspath(rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None and stat_mod.S_ISREG(st.st_mode):
            regular.append(ObservedFile(rel, str(path), st))
        elif st is not None:  # a directory or a symlink where the file goes
            others.append(ObservedFile(rel, str(path), st))
        wanted[rel] = found
    hash_files(regular, ws.state, ws.progress)
    current = {f.relpath: f.oid for f in regular}
    for rel, entry in list(wanted.items()):
        assert entry is not None
        if current.get(rel) == entry.oid:
            del wanted[rel]
        elif not ws.cache.exists(entry.oid):
            result.failed.append((rel, "not in cache"))
            del wanted[rel]
    if not wanted:
        return None
    observed = [f for f in regular + others if f.relpath in wanted]
    return _Plan(output, observed, manifest, wanted)


def _wanted_oids(plan: _Plan) -> dict[str, Oid]:
    return {
        rel: plan.output.pointer.oid if entry is None else entry.oid
        for rel, entry in plan.wanted.items()
    }


def _drop_edited_links(cache: Cache, plan: _Plan) -> None:
    """A hardlinked file edited in place changed the object it shares an inode with:
    drop that object so it is never served under its old id (docs/design.md)."""
    wanted = _wanted_oids(plan)
    for f in plan.observed:
        oid = wanted.get(f.relpath)
        if oid is not None and f.oid != oid and shares_inode_with_cache(f, cache, oid):
            cache.quarantine(oid)


def _missing_objects(cache: Cache, plan: _Plan) -> int:
    if plan.manifest is None:
        return 0 if cache.exists(plan.output.pointer.oid) else 1
    return len(cache.missing([e.oid for e in plan.manifest]))


def _place_whole(
    ws: Workspace, plan: _Plan, linker: fsutil.Linker, journal: CheckoutJournal
) -> None:
    relpath, pointer = plan.output.path, plan.output.pointer
    target = ws.abspath(relpath)
    with ws.progress.task(f"Checkout {relpath}", pointer.size, unit="bytes") as task:
        if plan.manifest is None:
            place_file(ws.cache, target, pointer.oid, pointer.executable, linker)
            task.advance(pointer.size)
            _remember(ws, relpath, str(target), pointer.oid)
            return
        current = plan.observed if plan.kind == "dir" else []
        if plan.kind == "file":
            target.unlink()
        placed = place_dir(
            ws.cache, relpath, target, plan.manifest, current, linker, task.advance,
            journal=journal.record,
        )  # fmt: skip
        for rel, path, oid in placed.placed:
            _remember(ws, rel, path, oid)


def _place_selected(
    ws: Workspace, plan: _Plan, linker: fsutil.Linker, result: RestoreResult
) -> None:
    """Files inside a directory, each replaced atomically (no journal needed)."""
    for rel, entry in plan.wanted.items():
        assert entry is not None
        path = ws.abspath(rel)
        place_file(ws.cache, path, entry.oid, entry.executable, linker)
        _remember(ws, rel, str(path), entry.oid)
        result.restored.append(rel)


def _remember(ws: Workspace, relpath: str, path: str, oid: Oid) -> None:
    """Record a placed file in the stat cache, so the next status need not hash it."""
    st = os.lstat(path)
    if not stat_mod.S_ISLNK(st.st_mode):
        ws.state.put(relpath, st, oid)


# Placing one object or one directory -------------------------------------------------


def place_fresh(
    cache: Cache, relpath: str, target: Path, oid: Oid, *, is_dir: bool, executable: bool,
    linker: fsutil.Linker,
) -> list[tuple[str, str, Oid]]:  # fmt: skip
    """Replace whatever is at `target` with object `oid` (a file, or a directory by its
    manifest), without looking at what was there: for scratch copies that are no user's
    work. Returns (relpath, path, oid) of the files written."""
    fsutil.remove_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        manifest = cache.load_manifest(oid)
        return place_dir(cache, relpath, target, manifest, [], linker, lambda _n: None).placed
    place_file(cache, target, oid, executable, linker)
    return [(relpath, str(target), oid)]


def _place(
    cache: Cache,
    oid: Oid,
    target: str,
    linker: fsutil.Linker,
    executable: bool,
    *,
    new: bool = False,
) -> None:
    """Put object `oid` at `target`.

    An existing file is replaced atomically (temp name beside it, then rename). A `new`
    file, journaled by the caller, is created in place: half the directory operations of
    temp + rename, which dominate checkouts of many small files.
    """
    # A hardlink or symlink shows the object's own mode and cannot carry another
    # executable bit: such a file gets a copy (or reflink) instead.
    links_ok = not linker.may_link or object_executable(cache, oid) == executable
    mode = 0o755 if executable else 0o644
    if new:
        try:
            linker.place(cache.path(oid), target, mode, links_ok=links_ok)
            return
        except (FileExistsError, IsADirectoryError):
            pass
    tmp = sibling_temp(target)
    try:
        linker.place(str(cache.path(oid)), tmp, 0o755 if executable else 0o644, links_ok=links_ok)
        try:
            os.replace(tmp, target)
        except IsADirectoryError:
            fsutil.remove_path(Path(target))
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass
class PlaceResult:
    placed: list[tuple[str, str, Oid]] = field(default_factory=list)  # (relpath, path, oid)
    removed: list[str] = field(default_factory=list)


def place_file(
    cache: Cache, target: Path, oid: Oid, executable: bool, linker: fsutil.Linker
) -> None:
    if target.is_dir() and not target.is_symlink():
        fsutil.remove_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _place(cache, oid, str(target), linker, executable)


def place_dir(
    cache: Cache,
    relpath: str,
    target: Path,
    manifest: Manifest,
    current: Iterable[ObservedFile],
    linker: fsutil.Linker,
    on_file: Callable[[int], None],
    journal: Callable[[list[str]], None] | None = None,
) -> PlaceResult:
    """Make directory `target` hold exactly `manifest`'s files; only changed files are written.

    Files that do not exist yet are first passed to `journal` (so an interrupted checkout
    can tell its own half-written files from user edits), then created in place.
    """
    result = PlaceResult()
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        fsutil.remove_path(target)
    target.mkdir(parents=True, exist_ok=True)  # an empty tracked directory has no entries
    have = {f.relpath: f for f in current}
    prefix = relpath + "/"
    wanted = {prefix + e.relpath for e in manifest}
    for rel, f in have.items():
        if rel not in wanted:
            fsutil.remove_path(f.path)
            result.removed.append(rel)
    top = str(target)
    made: set[str] = set()
    if journal is not None:
        journal([prefix + e.relpath for e in manifest if prefix + e.relpath not in have])
    for entry in manifest:
        rel = prefix + entry.relpath
        existing = have.get(rel)
        if (
            existing is not None
            and existing.oid == entry.oid
            and existing.linked_oid is None
            and (
                existing.executable == entry.executable
                # chmod on a hardlink would change the cache object's mode: re-place instead
                or not shares_inode_with_cache(existing, cache, entry.oid)
            )
        ):
            if existing.executable != entry.executable:
                fsutil.set_executable(existing.path, entry.executable)
            on_file(entry.size)
            continue
        path = os.path.join(top, entry.relpath)
        parent = os.path.dirname(path)
        if parent not in made:
            _make_parents(target, Path(parent))
            made.add(parent)
        _place(
            cache,
            entry.oid,
            path,
            linker,
            entry.executable,
            new=journal is not None and not existing,
        )
        result.placed.append((rel, path, entry.oid))
        on_file(entry.size)
    if result.removed:
        _remove_empty_dirs(target)
    return result


def _make_parents(top: Path, directory: Path) -> None:
    """mkdir -p, replacing any file that stands where a directory must go."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        probe = directory
        chain = []
        while probe != top and probe not in chain:
            chain.append(probe)
            probe = probe.parent
        for p in reversed(chain):
            if p.exists() and not p.is_dir():
                p.unlink()
        directory.mkdir(parents=True, exist_ok=True)


def _remove_empty_dirs(top: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        if not dirnames and not filenames and Path(dirpath) != top:
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)
