"""`exp apply`, `exp branch`, `exp rm`: bring an experiment into the workspace, onto a
branch, or delete it."""

from __future__ import annotations

import os
from pathlib import Path

from gitml import git
from gitml.errors import DirtyWorkspaceError, GitmlError
from gitml.exp import refs
from gitml.exp.refs import QUEUED, ExpRef
from gitml.fsutil import atomic_write_bytes
from gitml.ops.checkout import checkout
from gitml.pipeline import LOCK_FILE
from gitml.pipeline.project import lock_outputs_at
from gitml.workspace import Workspace


def find_or_fail(root: Path, name: str) -> ExpRef:
    exp = refs.find(root, name, git.head_commit(root))
    if exp is None:
        raise GitmlError(f"no experiment named {name!r}", hint="list them with 'gitml exp show -A'")
    return exp


def _changed_paths(root: Path, exp: ExpRef) -> list[str]:
    out = git.run_bytes(
        root, ["diff-tree", "-r", "-z", "--no-renames", "--name-only", exp.baseline, exp.commit]
    )
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def _saved_blobs(root: Path, paths: list[str]) -> set[str]:
    """Blob ids these paths have at HEAD and in any experiment: work that is not lost."""
    commits = [c for c in [git.head_commit(root)] if c] + [e.commit for e in refs.list_refs(root)]
    request = "".join(f"{c}:{p}\n" for c in commits for p in paths)
    out = git.run_bytes(root, ["cat-file", "--batch-check"], input=request.encode())
    return {
        line.split()[0] for line in out.decode().splitlines() if line.endswith(tuple("0123456789"))
    }


def apply(ws: Workspace, name: str, *, force: bool) -> list[str]:
    """Write the experiment's git files (params, gitml.lock, code it ran with) into the
    workspace, then check its outputs out of the cache; returns the files written."""
    root = ws.root
    exp = find_or_fail(root, name)
    if exp.state == QUEUED:
        raise GitmlError(f"experiment {name!r} is queued and has not run yet")
    lock_raw = git.CatFile(root)
    with lock_raw as cat:
        raw = cat.read_path(exp.commit, LOCK_FILE)
        cached = {p for p, _, _ in lock_outputs_at(root, exp.commit)} if raw else set()
        paths = [p for p in _changed_paths(root, exp) if p not in cached]
        if LOCK_FILE not in paths and raw is not None:
            paths.append(LOCK_FILE)
        blobs = {p: cat.read_path(exp.commit, p) for p in paths}
    present = [p for p in paths if (root / p).is_file()]
    if not force and present:
        listing = "".join(str(root / p) + "\n" for p in present)
        ids = git.run_bytes(root, ["hash-object", "--stdin-paths"], input=listing.encode())
        current = dict(zip(present, ids.decode().split(), strict=True))
        saved = _saved_blobs(root, present)
        lost = [p for p in present if current[p] not in saved and blobs.get(p) != _bytes(root, p)]
        if lost:
            more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
            raise DirtyWorkspaceError(
                f"{lost[0]}{more}: changes that are in no commit and no experiment would be "
                "overwritten",
                hint="commit them, or use --force",
            )
    before = {p: _bytes(root, p) for p in blobs}
    written = _write(root, blobs)
    try:
        result = checkout(ws, None, force=force)
    except DirtyWorkspaceError:
        _write(root, before)  # an output would lose unsaved changes: undo, change nothing
        raise
    if result.failed:
        raise GitmlError(
            f"{len(result.failed)} output(s) of {name!r} are not in the cache: "
            f"{result.failed[0][0]}",
            hint="fetch them with 'gitml exp pull' or 'gitml pull'",
        )
    return written + result.restored


def _write(root: Path, contents: dict[str, bytes | None]) -> list[str]:
    """Make each file hold these bytes (None: absent, except gitml.lock); the changed ones."""
    written = []
    for path, data in contents.items():
        target = root / path
        if data is None:
            if path != LOCK_FILE and target.is_file():
                target.unlink()
                written.append(path)
            continue
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data)
            written.append(path)
    return written


def _bytes(root: Path, path: str) -> bytes | None:
    try:
        return (root / path).read_bytes()
    except OSError:
        return None


def branch(root: Path, name: str, new_branch: str) -> str:
    exp = find_or_fail(root, name)
    if exp.state == QUEUED:
        raise GitmlError(f"experiment {name!r} is queued and has not run yet")
    try:
        git.run_bytes(root, ["check-ref-format", "--branch", new_branch])
    except GitmlError:
        raise GitmlError(f"invalid branch name {new_branch!r}") from None
    existing = git.run_bytes(
        root, ["for-each-ref", "--format=%(refname)", f"refs/heads/{new_branch}"]
    )
    if existing.strip():
        raise GitmlError(f"branch {new_branch!r} already exists")
    git.run_bytes(root, ["branch", "--", new_branch, exp.commit])
    return exp.commit


def remove(
    root: Path, names: list[str], *, all_of_head: bool, all_baselines: bool, queued: bool
) -> list[ExpRef]:
    head = git.head_commit(root)
    if names:
        chosen = [find_or_fail(root, n) for n in names]
    else:
        pool = refs.list_refs(root, None if all_baselines else head)
        if queued:
            chosen = [e for e in pool if e.state == QUEUED]
        elif all_of_head or all_baselines:
            chosen = pool
        else:
            chosen = []
    for exp in chosen:
        refs.delete_ref(root, exp)
    return chosen
