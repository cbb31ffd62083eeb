"""`gitml add` / `gitml commit`: hash outputs, store them in the cache, write pointers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitml import fsutil, git, gitignore
from gitml.checkout_journal import refuse_if_interrupted
from gitml.errors import PathError
from gitml.hashing import Oid, hash_file
from gitml.pointer import POINTER_SUFFIX, Pointer, pointer_path_for
from gitml.scan import (
    Observed,
    ObservedFile,
    known_dir_pointer,
    objects_present,
    observe,
    record_complete,
    shares_inode_with_cache,
    store_observed,
)
from gitml.workspace import Workspace


@dataclass(frozen=True)
class AddResult:
    relpath: str
    pointer: Pointer
    changed: bool  # False: the pointer already matched (a no-op)
    gitignore_changed: bool


def _check_addable(ws: Workspace, relpath: str, tracked: list[str]) -> None:
    shown = ws.display(relpath)
    if relpath.endswith(POINTER_SUFFIX):
        raise PathError(f"{shown}: is a gitml pointer file; add the output it describes instead")
    path = ws.root / relpath
    if path.is_symlink():
        raise PathError(f"{shown}: is a symlink; add the file or directory it points to")
    if not path.exists():
        raise PathError(f"{shown}: no such file or directory")
    from gitml.pipeline.project import load_pipelines  # lazy: only for new outputs

    pipeline = load_pipelines(ws.root)
    owner = pipeline.out_owner(relpath) if pipeline else None
    if owner is not None:
        where = "" if ":" in owner[0] else " in gitml.yaml"
        raise PathError(
            f"{shown}: is output '{owner[1]}' of stage '{owner[0]}'{where}",
            hint="'gitml repro' caches stage outputs; they cannot also be added",
        )
    for other in tracked:
        if relpath.startswith(other + "/"):
            raise PathError(
                f"{shown}: is inside tracked output {ws.display(other)}",
                hint=f"change the files and run 'gitml commit {ws.display(other)}'",
            )
        if other.startswith(relpath + "/"):
            raise PathError(
                f"{shown}: contains tracked output {ws.display(other)}",
                hint=f"run 'gitml rm {ws.display(other)}' first",
            )


def check_pointers_visible(ws: Workspace, relpaths: list[str]) -> None:
    """A pointer git ignores is invisible to git and to gitml (which lists pointers via git)."""
    hidden = git.ignored(ws.root, [pointer_path_for(r) for r in relpaths])
    if hidden:
        raise PathError(
            f"{ws.display(hidden[0])}: would be ignored by git, so neither git nor gitml "
            "would see this pointer file",
            hint=f"change the .gitignore rule that matches it (git check-ignore -v {hidden[0]})",
        )


def _quarantine_edited_links(ws: Workspace, relpath: str, previous: Pointer, now: Observed) -> None:
    """A hardlinked file edited in place has changed its cache object too: drop that object."""
    if previous.kind == "file" and now.kind == "file":
        (f,) = now.files
        if f.oid != previous.oid and shares_inode_with_cache(f, ws.cache, previous.oid):
            ws.cache.quarantine(previous.oid)
        return
    # Only a file with another link can share its inode with a cache object.
    linked = [f for f in now.files if f.st.st_nlink > 1]
    if previous.kind == "dir" and now.kind == "dir" and linked and ws.cache.exists(previous.oid):
        old = ws.cache.load_manifest(previous.oid).by_path()
        prefix = len(relpath) + 1
        for f in linked:
            entry = old.get(f.relpath[prefix:])
            if entry and entry.oid != f.oid and shares_inode_with_cache(f, ws.cache, entry.oid):
                ws.cache.quarantine(entry.oid)


# Small files whose cache copy gets its own inode anyway are stored from the buffer they
# were hashed from: one read instead of two. Below this size a clone saves no space worth
# a second read on reflink filesystems.
_STORE_FROM_BUFFER_MAX = 1024 * 1024


def _buffer_store(ws: Workspace) -> Callable[[ObservedFile, bytes], None] | None:
    store_types = [t for t in ws.config.link_types if t != "symlink"] or ["copy"]
    if store_types[0] not in ("reflink", "copy"):
        return None  # hardlink first: the cache shares the workspace file's inode
    cache = ws.cache
    stored: set[Oid] = set()

    def store(f: ObservedFile, data: bytes) -> None:
        # No stat per object first: an object already cached is written to a temp file and
        # dropped at the rename check, which is rarer than new ones when adding data.
        if f.oid is not None and len(data) <= _STORE_FROM_BUFFER_MAX and f.oid not in stored:
            cache.add_hashed_bytes(data, f.oid, checked=True)
            stored.add(f.oid)

    return store


def _large_store(
    ws: Workspace, previous: Pointer | None
) -> Callable[[ObservedFile, Callable[[int], None]], Oid]:
    """Store each large file as it is hashed: one read of its bytes instead of a hash and
    then a copy that is hashed again. Not when the file is probably the one already
    recorded (same size, object cached): hashing it alone is then cheaper than a copy."""
    link_types = ws.config.link_types
    linker = fsutil.Linker(tuple(t for t in link_types if t != "symlink") or ("copy",))
    cache = ws.cache
    recorded = (
        previous.size
        if previous is not None and previous.kind == "file" and cache.exists(previous.oid)
        else None
    )

    def store(f: ObservedFile, on_bytes: Callable[[int], None]) -> Oid:
        if f.st.st_size == recorded:
            return hash_file(f.path, f.st.st_size, on_bytes)
        return cache.store_file(f.path, linker, f.st, on_bytes)

    return store


def _unchanged_dir(ws: Workspace, relpath: str, path: Path, previous: Pointer | None) -> bool:
    """A tracked directory whose files' stats are those recorded for its pointer, with every
    object cached: nothing to hash, store or write (status's check, as cheap)."""
    return (
        previous is not None
        and previous.kind == "dir"
        and known_dir_pointer(relpath, path, ws.state) == previous
        and objects_present(ws.cache, ws.state, previous)
    )


def add_output(ws: Workspace, relpath: str) -> AddResult:
    path = ws.abspath(relpath)
    previous = ws.read_pointer(relpath) if ws.has_pointer(relpath) else None
    if previous is not None and _unchanged_dir(ws, relpath, path, previous):
        return AddResult(relpath, previous, False, gitignore.add_entry(path.parent, path.name))
    observed = observe(
        relpath,
        path,
        ws.cache,
        ws.state,
        ws.progress,
        _buffer_store(ws),
        _large_store(ws, previous),
    )
    if observed.kind == "missing":
        raise PathError(f"{ws.display(relpath)}: no such file or directory")
    pointer = observed.pointer()
    changed = previous != pointer
    if previous is not None and changed:  # same pointer: no file's bytes changed
        _quarantine_edited_links(ws, relpath, previous, observed)
    store_observed(ws, observed)
    if all(f.oid for f in observed.files):  # then store_observed cached every one
        record_complete(ws.cache, ws.state, pointer)
    if changed:
        fsutil.atomic_write_bytes(
            ws.root / pointer_path_for(relpath), pointer.render().encode("utf-8")
        )
    parent = path.parent
    ignore_changed = gitignore.add_entry(parent, path.name)
    return AddResult(relpath, pointer, changed, ignore_changed)


def verify_schemas(ws: Workspace, relpaths: list[str]) -> None:
    """Refuse data that breaks the schema gitml.yaml declares for it (SPEC 7.5)."""
    from gitml.tabular.checks import refuse_invalid  # lazy: the tabular stack is heavy

    refuse_invalid(ws, relpaths)


def add(ws: Workspace, user_paths: list[str], *, verify: bool = True) -> list[AddResult]:
    relpaths = list(dict.fromkeys(ws.relpath(p) for p in user_paths))
    with ws.locked():
        tracked = ws.tracked_outputs()
        for relpath in relpaths:
            if relpath not in tracked:
                _check_addable(ws, relpath, tracked)
        in_git = git.tracked_by_git(ws.root, [r for r in relpaths if r not in tracked])
        if in_git:
            shown = ws.display(in_git[0])
            raise PathError(
                f"{shown}: is tracked by git; gitml would hide it from git",
                hint=f"run 'git rm -r --cached {shown}' first",
            )
        check_pointers_visible(ws, [r for r in relpaths if r not in tracked])
        refuse_if_interrupted(ws.tmp_dir, relpaths, holding_lock=True)
        for relpath in relpaths:
            parent = relpath.rpartition("/")[0]
            shown = ws.display(f"{parent}/.gitignore" if parent else ".gitignore")
            gitignore.refuse_symlink(ws.abspath(relpath).parent, shown)
        if verify:
            verify_schemas(ws, relpaths)
        results = []
        try:
            for relpath in relpaths:
                results.append(add_output(ws, relpath))
        finally:
            ws.state.save()
        return results


def commit(ws: Workspace, user_paths: list[str], *, verify: bool = True) -> list[AddResult]:
    """Re-record tracked outputs (all, or those named); unchanged ones are no-ops."""
    with ws.locked():
        tracked = ws.tracked_outputs()
        if user_paths:
            relpaths = [ws.relpath(p) for p in user_paths]
            for relpath in relpaths:
                if relpath not in tracked:
                    raise PathError(f"{ws.display(relpath)} is not tracked by gitml")
        else:
            relpaths = tracked
        refuse_if_interrupted(ws.tmp_dir, relpaths, holding_lock=True)
        if verify:
            verify_schemas(ws, [r for r in relpaths if (ws.root / r).exists()])
        results = []
        try:
            for relpath in relpaths:
                if not Path(ws.root / relpath).exists():
                    raise PathError(
                        f"{ws.display(relpath)}: is deleted; run 'gitml checkout' to restore it "
                        "or 'gitml rm' to stop tracking it"
                    )
                results.append(add_output(ws, relpath))
        finally:
            ws.state.save()
        return results
