"""Temporary git worktrees for `exp run --temp` and `--run-all`.

A worktree is checked out at the baseline under `.gitml/tmp/exps/`, gets the workspace's
uncommitted changes to git-tracked files (code and params: no commit needed first), and
shares the workspace's cache through its `.gitml/config.local`, so tracked data is
linked from the cache, never copied, and every output and run-cache entry it makes is
the workspace's too. The workspace itself is not written to.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from gitml import git
from gitml.errors import GitError
from gitml.exp import runner
from gitml.exp.overrides import Assignment
from gitml.exp.runner import Emit, ExpRun, Output
from gitml.ops.checkout import checkout
from gitml.workspace import GITML_DIR, Workspace

# Links first: a worktree's copy of tracked data must cost nothing (stages only read deps).
WORKTREE_LINK_TYPES = ["reflink", "hardlink", "copy"]


def carried_changes(root: Path) -> list[tuple[str, bool]]:
    """(path, deleted) of git-tracked files whose workspace copy differs from HEAD,
    including files staged as new."""
    out = git.run_bytes(root, ["diff", "HEAD", "--name-status", "--no-renames", "-z"])
    parts = [os.fsdecode(p) for p in out.split(b"\0") if p]
    return [(parts[i + 1], parts[i] == "D") for i in range(0, len(parts) - 1, 2)]


@contextlib.contextmanager
def temporary_worktree(ws: Workspace, baseline: str, label: str) -> Iterator[Workspace]:
    from gitml.config import edit_toml

    base = ws.tmp_dir / "exps"
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{label}-{secrets.token_hex(3)}"
    # No hooks: gitml's post-checkout hook would run before the cache is shared.
    git.run_bytes(
        ws.root,
        [
            "-c",
            "core.hooksPath=/dev/null",
            "worktree",
            "add",
            "--quiet",
            "--detach",
            str(path),
            baseline,
        ],
    )
    try:
        for rel, deleted in carried_changes(ws.root):
            target = path / rel
            if deleted:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            shutil.copy2(ws.root / rel, target, follow_symlinks=False)
        gitml_dir = path / GITML_DIR
        gitml_dir.mkdir(exist_ok=True)
        local = ws.gitml_dir / "config.local"
        if local.is_file():
            shutil.copyfile(local, gitml_dir / "config.local")

        def share_cache(document: object) -> None:
            import tomlkit

            assert isinstance(document, dict)
            cache = document.setdefault("cache", tomlkit.table())
            cache["dir"] = str(ws.cache.root)
            cache["type"] = WORKTREE_LINK_TYPES

        edit_toml(gitml_dir / "config.local", share_cache)
        yield Workspace(path, ws.progress)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(GitError):
            git.run_bytes(ws.root, ["worktree", "prune"])


def prepare(wt: Workspace) -> None:
    """Link the tracked data and stage outputs of the baseline from the shared cache
    (what is not in the cache stays absent; the run then says what is missing)."""
    checkout(wt, None, force=True)


def run_temp(
    ws: Workspace,
    baseline: str,
    name: str,
    assignments: list[Assignment],
    targets: tuple[str, ...],
    *,
    emit: Emit,
    output: Output,
    queued_commit: str | None = None,
) -> ExpRun:
    with temporary_worktree(ws, baseline, name) as wt:
        prepare(wt)
        return runner.run(
            wt,
            assignments,
            name=name,
            baseline=baseline,
            targets=targets,
            emit=emit,
            output=output,
            queued_commit=queued_commit,
        )
