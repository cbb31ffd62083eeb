"""The real `pre-commit` tool runs gitml's hooks from this repository's
`.pre-commit-hooks.yaml`: it pip-installs gitml from a temporary copy of this work tree
(the files as they are now, committed there) into its own environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitml.hashing import hash_file
from tests.conftest import git, make_repo, run_gitml, write
from tests.remote_layout import stored

SOURCE = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
    "pre-commit"
)


def _source_copy(dest: Path) -> str:
    """This work tree's files (tracked or new, not ignored) committed in a new repo."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=SOURCE,
        capture_output=True,
        check=True,
    ).stdout
    make_repo(dest)
    for raw in listed.split(b"\0"):
        if not raw:
            continue
        name = os.fsdecode(raw)
        source = SOURCE / name
        if not source.is_file():
            continue  # deleted in the work tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    git("add", "-A", cwd=dest)
    git("commit", "-qm", "gitml under test", cwd=dest)
    return git("rev-parse", "HEAD", cwd=dest).strip()


def _git(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (test extra)")
def test_pre_commit_framework_runs_gitml_hooks(tmp_path: Path) -> None:
    assert PRE_COMMIT
    sha = _source_copy(tmp_path / "gitml-src")
    # gitml is found only inside pre-commit's own environment, never on PATH
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "CI": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    root = make_repo(tmp_path / "ws")
    run_gitml("init", cwd=root)
    write(root / "data" / "a.txt", "version 1\n")
    run_gitml("add", "data", cwd=root)
    store = tmp_path / "store"
    run_gitml("remote", "add", "-d", "store", str(store), cwd=root)
    write(
        root / ".pre-commit-config.yaml",
        f"""repos:
  - repo: {tmp_path / "gitml-src"}
    rev: {sha}
    hooks:
      - id: gitml-pre-commit
        args: [--strict]
      - id: gitml-pre-push
      - id: gitml-post-checkout
""",
    )
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    installed = subprocess.run(
        [PRE_COMMIT, "install", "-t", "pre-commit", "-t", "pre-push", "-t", "post-checkout"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert installed.returncode == 0, installed.stderr
    prepared = subprocess.run(
        [PRE_COMMIT, "install-hooks"], cwd=root, capture_output=True, text=True, env=env
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr

    # pre-commit (--strict): data changed, pointer not updated -> blocked
    write(root / "data" / "a.txt", "version 2, longer\n")
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    head = git("rev-parse", "HEAD", cwd=root)
    blocked = _git("commit", "-qm", "stale", cwd=root, env=env)
    assert blocked.returncode != 0
    output = blocked.stdout + blocked.stderr
    assert "gitml data matches its pointers" in output and "Failed" in output
    assert "modified:" in output and "commit stopped" in output
    assert git("rev-parse", "HEAD", cwd=root) == head
    run_gitml("commit", cwd=root)
    git("add", "data.gitml", cwd=root)
    done = _git("commit", "-qm", "v2", cwd=root, env=env)
    assert done.returncode == 0, done.stdout + done.stderr

    # pre-push: the data of the pushed commits reaches the gitml remote
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    pushed = _git("push", "-q", str(bare), "main", cwd=root, env=env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    oid = hash_file(root / "data" / "a.txt").hexdigest
    assert oid in stored(store)

    # post-checkout: the data follows git checkout
    moved = _git("checkout", "-q", "HEAD~1", cwd=root, env=env)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert (root / "data" / "a.txt").read_text() == "version 1\n"
