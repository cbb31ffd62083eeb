"""What git's object database reaches, in bulk, for `gitml gc` and lineage checks:
the commits every ref, reflog and stash keeps, the objects they reach, and sizes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gitml.errors import GitError
from gitml.git import head_commit, is_object_id, ref_commits, run_bytes


def all_ref_commits(root: Path) -> list[str]:
    """Commits at the tips of every ref (branches, tags, remote-tracking, stash...) and HEAD."""
    commits = ref_commits(root, "refs")
    head = head_commit(root)
    if head is not None:
        commits.append(head)
    return list(dict.fromkeys(commits))


def stash_commits(root: Path) -> list[str]:
    """Every stash entry with its index and untracked-files commits (`stash@{n}^2`, `^3`)."""
    try:
        out = run_bytes(root, ["log", "-g", "--format=%H %P", "refs/stash", "--"])
    except GitError:
        return []  # no stash
    commits: list[str] = []
    for line in out.decode().splitlines():
        parts = line.split()
        if parts:
            commits.append(parts[0])
            commits.extend(parts[2:])  # parts[1] is the commit the stash was made on
    return list(dict.fromkeys(c for c in commits if is_object_id(c)))


def reachable_objects(
    root: Path, *, all_commits: bool, commits: Sequence[str] = ()
) -> list[tuple[str, str | None]]:
    """(object id, path or None) of every object reachable from `commits` (their trees only,
    `--no-walk`) or, with `all_commits`, from every commit of every ref and reflog; both
    also list the objects of every worktree's index. git prints one path per object."""
    args = ["rev-list", "--objects", "--indexed-objects"]
    if all_commits:
        args += ["--all", "--reflog"]
    else:
        args += ["--no-walk=unsorted", "--stdin"]
    stdin = b"" if all_commits else "".join(c + "\n" for c in commits).encode()
    out = run_bytes(root, args, input=stdin)
    objects: list[tuple[str, str | None]] = []
    for line in out.split(b"\n"):
        object_id, sep, raw_path = line.partition(b" ")
        text = object_id.decode("ascii", "replace")
        if not is_object_id(text):
            continue  # a path with a newline in it continues on the next line
        objects.append((text, os.fsdecode(raw_path) if sep else None))
    return objects


def object_sizes(root: Path, object_ids: list[str]) -> dict[str, tuple[str, int]]:
    """{id: (type, size)} through one `git cat-file --batch-check`."""
    unique = list(dict.fromkeys(object_ids))
    if not unique:
        return {}
    request = "".join(o + "\n" for o in unique).encode()
    out = run_bytes(root, ["cat-file", "--batch-check"], input=request)
    sizes: dict[str, tuple[str, int]] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            sizes[parts[0]] = (parts[1], int(parts[2]))
    return sizes
