"""All git access. The `git` binary for whole-tree work (measured 5-17x faster than
dulwich on index and status operations, shared/research §4)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
    """(path, blob id) of every `*.gitml` regular file in `commit`'s tree (not under
    `.gitml/`, not a bare `.gitml`)."""
    found = []
    for entry in ls_tree(root, commit):
        path = entry.path
        if entry.kind != "blob" or entry.mode not in ("100644", "100755"):
            continue
        if not path.endswith(".gitml") or path.startswith(".gitml/"):
            continue
        if path.rsplit("/", 1)[-1] == ".gitml":
            continue
        found.append((path, entry.object_id))
    return found


# History access: one long-lived `git cat-file --batch` per command (measured 0.13 ms per
# object against 2.4 ms per spawn, shared/research §4) and `ls-tree -r -z` per revision.

_HEX = frozenset("0123456789abcdef")


def is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and _HEX.issuperset(text)


def run_bytes(
    root: Path,
    args: list[str],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> bytes:
    """stdout of `git ARGS` in `root`; GitError with git's last stderr line on failure.
    `env` adds variables (e.g. GIT_INDEX_FILE for a temporary index)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            input=input,
            capture_output=True,
            stdin=None if input is not None else subprocess.DEVNULL,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else result.returncode}")
    return result.stdout


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)


class CatFile:
    """One `git cat-file --batch` process; objects are read by id, requests are pipelined."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "cat-file", "--batch"],
                    cwd=self.root,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                )
            except FileNotFoundError:
                raise GitError("git is not installed or not on PATH") from None
        return self._proc

    def read_many(
        self, object_ids: list[str], *, limit: int | None = None
    ) -> dict[str, tuple[str, bytes]]:
        """{id: (type, bytes)} for the ids git has; missing ids are left out. With `limit`,
        at most that many bytes of each object are kept in memory (the rest is skipped)."""
        import threading

        unique = [o for o in dict.fromkeys(object_ids) if is_object_id(o)]
        if not unique:
            return {}
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout
        failure: list[BaseException] = []

        def feed() -> None:
            try:
                stdin.write("".join(o + "\n" for o in unique).encode())
                stdin.flush()
            except OSError as exc:
                failure.append(exc)

        # A writer thread, so a long request list never deadlocks against full pipes.
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        found: dict[str, tuple[str, bytes]] = {}
        try:
            for _ in unique:
                header = stdout.readline()
                if not header:
                    raise GitError("git cat-file stopped unexpectedly")
                parts = header.decode("utf-8", "replace").split()
                if len(parts) == 3:
                    size = int(parts[2])
                    keep = size if limit is None else min(size, limit)
                    data = stdout.read(keep)
                    _skip(stdout, size - keep + 1)  # the rest and the trailing newline
                    found[parts[0]] = (parts[1], data)
        finally:
            writer.join()
        if failure:
            raise GitError(f"git cat-file failed: {failure[0]}")
        return found

    def read(self, object_id: str) -> bytes | None:
        item = self.read_many([object_id]).get(object_id)
        return item[1] if item is not None else None

    def read_path(self, commit: str, path: str) -> bytes | None:
        """A blob by `commit:path` (plain paths only: no newline), None if absent."""
        if "\n" in path or not is_object_id(commit):
            raise ValueError("read_path needs a commit id and a path without newlines")
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{commit}:{path}\n".encode())
        proc.stdin.flush()
        parts = proc.stdout.readline().decode("utf-8", "replace").split()
        if len(parts) != 3 or not parts[2].isdigit():
            return None  # "<spec> missing"
        size = int(parts[2])
        data = proc.stdout.read(size + 1)[:size]
        return data if parts[1] == "blob" else None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # blob | tree | commit (submodule)
    object_id: str
    path: str


def ls_tree(root: Path, treeish: str) -> list[TreeEntry]:
    """Every entry below `treeish`, recursively (`git ls-tree -r -z --full-tree`)."""
    out = run_bytes(root, ["ls-tree", "-r", "-z", "--full-tree", treeish])
    entries = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, object_id = meta.decode().split(" ")
        entries.append(TreeEntry(mode, kind, object_id, os.fsdecode(raw_path)))
    return entries


def head_commit(root: Path) -> str | None:
    """HEAD's commit, or None on an unborn branch."""
    result = _run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root, check=False)
    if result.returncode != 0:
        return None
    return result.stdout.decode().strip() or None


def is_partial_clone(root: Path) -> bool:
    result = _run(["config", "--get", "remote.origin.promisor"], root, check=False)
    return result.stdout.strip() == b"true"


def prefetch_blobs(root: Path, object_ids: list[str]) -> None:
    """In a partial clone, fetch many missing blobs in one request (instead of one lazy
    fetch per `cat-file` read). Best effort: on failure cat-file still fetches lazily."""
    if not object_ids or not is_partial_clone(root):
        return
    with contextlib.suppress(GitError):
        run_bytes(
            root,
            [
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
                "origin",
            ],
            input="".join(o + "\n" for o in dict.fromkeys(object_ids)).encode(),
        )


def shallow_clone(url: str, dest: Path, rev: str | None) -> None:
    """A clone with no blobs and no checkout: `--depth 1` at `rev` when it names a branch or
    tag (or the default branch), else every commit and tree but still no blobs."""
    base = ["clone", "--quiet", "--no-checkout", "--filter=blob:none"]
    tail = ["--", url, str(dest)]
    if rev is None:
        run_bytes(dest.parent, [*base, "--depth", "1", *tail])
        return
    if not rev.startswith("-"):
        try:
            run_bytes(dest.parent, [*base, "--depth", "1", "--branch", rev, *tail])
            return
        except GitError:
            import shutil

            shutil.rmtree(dest, ignore_errors=True)
    run_bytes(dest.parent, [*base, *tail])


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


def read_bytes(root: Path, args: list[str], *, input: bytes | None = None) -> bytes:
    """stdout of `git ARGS` as `run_bytes` gives it, for outputs of megabytes: stdout is
    read in one call while a thread feeds stdin (`communicate` polls in 32 KiB steps,
    ~70 ms of CPU for the 1.5 MB of a 5,000-commit `log --raw`)."""
    import threading

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=root,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    assert proc.stdout is not None and proc.stderr is not None

    def feed() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(input or b"")
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True) if input is not None else None
    if feeder is not None:
        feeder.start()
    out = proc.stdout.read()
    err = proc.stderr.read()  # git's stderr is a few lines; read after stdout's end
    proc.wait()
    if feeder is not None:
        feeder.join()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
    return out


def cat_blobs(root: Path, object_ids: list[str]) -> dict[str, bytes]:
    """{id: bytes} of many small objects through one `git cat-file --batch` run with all
    ids at once (half the time of a pipelined CatFile for ~10,000 pointer-sized blobs);
    ids git lacks are left out."""
    unique = [o for o in dict.fromkeys(object_ids) if is_object_id(o)]
    if not unique:
        return {}
    out = read_bytes(
        root, ["cat-file", "--batch"], input="".join(o + "\n" for o in unique).encode()
    )
    found: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:  # "<id> missing"
            continue
        size = int(header[2])
        found[header[0].decode("ascii")] = out[pos : pos + size]
        pos += size + 1
    return found
