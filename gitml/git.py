"""All git access. The `git` binary for whole-tree work (measured 5-17x faster than
dulwich on index and status operations, shared/research §4)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gitml.errors import GitError, NotAGitRepoError


def _run(
    args: list[str], cwd: Path, *, check: bool = True, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, input=stdin)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else result.returncode}")
    return result


def toplevel(cwd: Path) -> Path:
    result = _run(["rev-parse", "--show-toplevel"], cwd, check=False)
    if result.returncode != 0:
        raise NotAGitRepoError(
            f"{cwd} is not inside a git work tree",
            hint="run 'git init' first, then 'gitml init'",
        )
    return Path(os.fsdecode(result.stdout.strip()))


def list_pointer_files(root: Path) -> list[str]:
    """Pointer files under `root` that git tracks or would track (not ignored)."""
    result = _run(
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.gitml"], root
    )
    names = {os.fsdecode(n) for n in result.stdout.split(b"\0") if n}
    return sorted(n for n in names if (root / n).is_file())


def tracked_by_git(root: Path, relpaths: list[str]) -> list[str]:
    """Those of `relpaths` (files or directories) that have files in git's index."""
    if not relpaths:
        return []
    result = _run(["ls-files", "-z", "--cached", "--", *[":(literal)" + r for r in relpaths]], root)
    files = [os.fsdecode(n) for n in result.stdout.split(b"\0") if n]
    return [r for r in relpaths if any(f == r or f.startswith(r + "/") for f in files)]


def ignored(root: Path, relpaths: list[str]) -> list[str]:
    """Those of `relpaths` (existing or not) that git would ignore and does not track."""
    if not relpaths:
        return []
    names = b"".join(os.fsencode(r) + b"\0" for r in relpaths)
    result = _run(["check-ignore", "-z", "--stdin"], root, check=False, stdin=names)
    if result.returncode not in (0, 1):
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git check-ignore failed: {message[-1] if message else result.returncode}")
    found = {os.fsdecode(n) for n in result.stdout.split(b"\0") if n}
    return [r for r in relpaths if r in found]


def show_file(root: Path, rev: str, relpath: str) -> bytes | None:
    """The bytes of `relpath` at revision `rev`, or None if the file is not in that tree.

    An unknown revision is a GitError naming it.
    """
    if rev.startswith("-"):
        raise GitError(f"invalid revision {rev!r}")
    check = _run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, check=False)
    if check.returncode != 0:
        if rev == "HEAD":  # a repository without commits yet: nothing at HEAD
            return None
        raise GitError(f"unknown git revision {rev!r}")
    result = _run(["cat-file", "blob", f"{rev}:{relpath}"], root, check=False)
    if result.returncode != 0:
        return None
    return result.stdout


def branches(root: Path) -> list[str]:
    """Local branch names."""
    result = _run(["for-each-ref", "--format=%(refname:short)", "refs/heads"], root)
    return [os.fsdecode(line) for line in result.stdout.splitlines() if line]


def resolve_commit(root: Path, rev: str) -> str:
    """The commit id `rev` names; GitError naming `rev` when it names none."""
    if rev.startswith("-"):
        raise GitError(f"invalid revision {rev!r}")
    result = _run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, check=False)
    if result.returncode != 0:
        raise GitError(f"unknown revision {rev!r}")
    return result.stdout.decode().strip()


def ref_commits(root: Path, namespace: str) -> list[str]:
    """Commits at the tips of refs under `namespace` (e.g. refs/heads, refs/tags)."""
    result = _run(
        [
            "for-each-ref",
            "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname)",
            namespace,
        ],
        root,
    )
    commits = []
    for line in result.stdout.decode().splitlines():
        parts = line.split()
        if parts[:1] == ["commit"]:
            commits.append(parts[1])
        elif len(parts) == 4 and parts[2] == "commit":  # annotated tag of a commit
            commits.append(parts[3])
    return list(dict.fromkeys(commits))


def pointer_blobs(root: Path, commit: str) -> list[tuple[str, str]]:
    """(path, blob id) of every `*.gitml` regular file in `commit`'s tree."""
    result = _run(["ls-tree", "-r", "-z", "--full-tree", commit], root)
    found = []
    for record in result.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        path = os.fsdecode(raw_path)
        if kind != "blob" or mode not in ("100644", "100755") or not path.endswith(".gitml"):
            continue
        if path.startswith(".gitml/") or path.rsplit("/", 1)[-1] == ".gitml":
            continue
        found.append((path, blob))
    return found


def read_blobs(root: Path, blob_ids: list[str]) -> dict[str, bytes]:
    """Contents of blobs, through one `git cat-file --batch`."""
    unique = list(dict.fromkeys(blob_ids))
    if not unique:
        return {}
    try:
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=root,
            input=("\n".join(unique) + "\n").encode(),
            capture_output=True,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise GitError("git cat-file failed: " + proc.stderr.decode("utf-8", "replace").strip())
    out = proc.stdout
    blobs: dict[str, bytes] = {}
    pos = 0
    for _ in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split(" ")
        pos = end + 1
        if len(header) != 3 or header[1] != "blob":
            raise GitError(f"git cat-file: cannot read blob {header[0]}")
        size = int(header[2])
        blobs[header[0]] = out[pos : pos + size]
        pos += size + 1
    return blobs


def git_path(root: Path, name: str) -> Path:
    """`git rev-parse --git-path NAME`: respects core.hooksPath, worktrees and GIT_DIR."""
    result = _run(["rev-parse", "--git-path", name], root)
    path = Path(os.fsdecode(result.stdout.rstrip(b"\n")))
    return path if path.is_absolute() else root / path


def unstaged_changes(root: Path, pathspecs: list[str]) -> list[str]:
    """Tracked files matching `pathspecs` whose work-tree copy differs from the index."""
    result = _run(["diff", "--name-only", "-z", "--no-renames", "--", *pathspecs], root)
    return sorted(os.fsdecode(n) for n in result.stdout.split(b"\0") if n)


def rev_list(root: Path, args: list[str]) -> list[str]:
    """Commit ids from `git rev-list ARGS`; an unknown revision gives GitError."""
    result = _run(["rev-list", *args], root)
    return result.stdout.decode().split()
