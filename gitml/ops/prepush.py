"""The pre-push hook: push to the default gitml remote the data that the pushed commits'
pointer files name, so nobody clones pointers whose data is missing.

Which commits: each pushed tip, and every commit in the pushed range that changed a
pointer file or gitml.lock (the range is `REMOTE_SHA..LOCAL_SHA` when the remote's old
tip is known here, else what no remote-tracking branch of that git remote has).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitml import git
from gitml.errors import GitError
from gitml.ops.push import push
from gitml.ops.sync import SyncResult
from gitml.workspace import Workspace

ZERO = "0" * 40
_POINTER_PATHS = ["*.gitml", "gitml.lock"]


@dataclass(frozen=True)
class RefUpdate:
    """One line of pre-push's standard input (githooks(5))."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(text: str) -> list[RefUpdate]:
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            updates.append(RefUpdate(*parts))
    return updates


def _is_zero(sha: str) -> bool:
    return not sha or set(sha) == {"0"}


def commits_to_push(ws: Workspace, updates: list[RefUpdate], git_remote: str) -> list[str]:
    tips: list[str] = []
    changed: list[str] = []
    for u in updates:
        if _is_zero(u.local_sha):  # a deletion pushes no data
            continue
        tips.append(u.local_sha)
        if not _is_zero(u.remote_sha) and _known(ws, u.remote_sha):
            span = [f"{u.remote_sha}..{u.local_sha}"]
        else:
            span = [u.local_sha, "--not", f"--remotes={git_remote}"] if git_remote else []
        if span:
            changed += git.rev_list(ws.root, [*span, "--", *_POINTER_PATHS])
    return list(dict.fromkeys(tips + changed))


def _known(ws: Workspace, sha: str) -> bool:
    try:
        git.resolve_commit(ws.root, sha)
    except GitError:
        return False
    return True


def has_pointers(ws: Workspace, commits: list[str]) -> bool:
    return any(git.pointer_blobs(ws.root, c) for c in commits)


def pre_push(ws: Workspace, commits: list[str], remote: str | None = None) -> SyncResult:
    return push(ws, remote, None, revs=commits)
