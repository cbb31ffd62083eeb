"""`gitml install`: hooks driven through real `git` commands."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitml.hashing import hash_file
from tests.conftest import GITML, git, make_repo, run_gitml, write
from tests.remote_layout import stored


def _git(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """git with the hooks' output captured; never raises."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def _objects(store: Path) -> set[str]:
    return stored(store)


def _oids(root: Path, relpath: str) -> set[str]:
    """Content ids of every file under a workspace path (what a remote must hold)."""
    top = root / relpath
    files = [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
    return {hash_file(p).hexdigest for p in files}


def _workspace(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "ws")
    run_gitml("init", cwd=root)
    write(root / "data" / "a.txt", "version 1\n")
    write(root / "data" / "b.txt", "bee\n")
    write(root / "model.bin", b"\x00model v1")
    run_gitml("add", "data", "model.bin", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    return root


def _commit_v2(root: Path) -> None:
    write(root / "data" / "a.txt", "version 2, longer\n")
    write(root / "data" / "c.txt", "new file\n")
    write(root / "model.bin", b"\x00model v2")
    run_gitml("commit", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v2", cwd=root)


def test_install_writes_four_hooks_and_is_idempotent(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    first = json.loads(run_gitml("install", "--json", cwd=root).stdout)
    hooks = root / ".git" / "hooks"
    assert first["hooks_dir"] == str(hooks)
    assert {h["hook"]: h["action"] for h in first["hooks"]} == {
        "pre-commit": "installed",
        "pre-push": "installed",
        "post-checkout": "installed",
        "post-merge": "installed",
    }
    for name in ("pre-commit", "pre-push", "post-checkout", "post-merge"):
        assert os.access(hooks / name, os.X_OK)
    before = {p.name: p.read_bytes() for p in hooks.iterdir()}
    again = json.loads(run_gitml("install", "--json", cwd=root).stdout)
    assert {h["action"] for h in again["hooks"]} == {"unchanged"}
    assert {p.name: p.read_bytes() for p in hooks.iterdir()} == before
    assert not list(hooks.glob("*.pre-gitml"))


def test_git_checkout_of_an_older_commit_changes_the_data(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", cwd=root)
    _commit_v2(root)
    assert (root / "data" / "a.txt").read_text() == "version 2, longer\n"

    done = _git("checkout", "-q", "HEAD~1", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "a.txt").read_text() == "version 1\n"
    assert not (root / "data" / "c.txt").exists()
    assert (root / "model.bin").read_bytes() == b"\x00model v1"

    done = _git("switch", "-q", "main", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "c.txt").read_text() == "new file\n"
    assert (root / "model.bin").read_bytes() == b"\x00model v2"
    assert json.loads(run_gitml("status", "--json", cwd=root).stdout) == {"outputs": []}


def test_git_merge_brings_the_merged_data(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    git("switch", "-q", "-c", "feature", cwd=root)
    _commit_v2(root)
    git("switch", "-q", "main", cwd=root)  # hooks not installed yet: data stays v2
    run_gitml("checkout", cwd=root)
    assert (root / "model.bin").read_bytes() == b"\x00model v1"
    run_gitml("install", cwd=root)
    done = _git("merge", "-q", "--ff-only", "feature", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "model.bin").read_bytes() == b"\x00model v2"
    assert (root / "data" / "c.txt").read_text() == "new file\n"


def test_file_checkout_does_not_run_gitml_checkout(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", cwd=root)
    _commit_v2(root)
    # `git checkout REV -- PATH` (flag 0) restores only the pointer file; the data waits
    done = _git("checkout", "HEAD~1", "--", "model.bin.gitml", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "model.bin").read_bytes() == b"\x00model v2"


def _folder_remote(root: Path, store: Path) -> None:
    run_gitml("remote", "add", "-d", "store", str(store), cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "remote", cwd=root)


def test_git_push_pushes_the_data_to_the_gitml_remote_first(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    store = tmp_path / "store"
    _folder_remote(root, store)
    v1 = _oids(root, "data") | _oids(root, "model.bin")
    _commit_v2(root)
    v2 = _oids(root, "data") | _oids(root, "model.bin")
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    run_gitml("install", cwd=root)

    done = _git("push", "-q", str(bare), "main", cwd=root)
    assert done.returncode == 0, done.stderr
    on_remote = _objects(store)
    # both versions: v1 is in the pushed history, not only the tip
    assert v1 | v2 <= on_remote
    assert git("rev-parse", "main", cwd=bare) == git("rev-parse", "main", cwd=root)

    # A clone pulls everything the pushed commits need, at both revisions.
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)
    run_gitml("pull", cwd=clone)
    assert (clone / "model.bin").read_bytes() == b"\x00model v2"
    run_gitml("fetch", "--rev", "HEAD~2", cwd=clone)


def test_push_of_an_older_commit_pushes_its_data(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    store = tmp_path / "store"
    _folder_remote(root, store)
    v1 = _oids(root, "model.bin")
    _commit_v2(root)
    v2 = _oids(root, "model.bin")
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    run_gitml("install", cwd=root)
    done = _git("push", "-q", str(bare), "HEAD~1:refs/heads/old", cwd=root)
    assert done.returncode == 0, done.stderr
    assert v1 <= _objects(store)
    assert not v2 & _objects(store)  # the unpushed commit's data stays local


def test_failed_data_push_stops_git_push(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    store = tmp_path / "store"
    _folder_remote(root, store)
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    run_gitml("install", cwd=root)
    # the data is gone from the cache and the remote never had it
    subprocess.run(["chmod", "-R", "u+w", str(root / ".gitml" / "cache")], check=True)
    subprocess.run(["rm", "-rf", str(root / ".gitml" / "cache")], check=True)

    done = _git("push", "-q", str(bare), "main", cwd=root)
    assert done.returncode != 0
    assert "git push stopped" in done.stderr
    assert "not in the local cache" in done.stderr
    assert git("for-each-ref", cwd=bare) == ""  # the pointers did not go out either

    forced = _git("push", "-q", "--no-verify", str(bare), "main", cwd=root)
    assert forced.returncode == 0, forced.stderr


def test_push_without_a_gitml_remote_warns_and_pushes(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    run_gitml("install", cwd=root)
    done = _git("push", "-q", str(bare), "main", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "no default gitml remote" in done.stderr
    assert git("rev-parse", "main", cwd=bare) == git("rev-parse", "main", cwd=root)


def _user_hook(path: Path, log: Path, extra: str = "") -> str:
    text = f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n{extra}'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return text


def test_existing_user_hooks_still_run_and_uninstall_restores_them(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    hooks = root / ".git" / "hooks"
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    store = tmp_path / "store"
    _folder_remote(root, store)
    log = tmp_path / "log"
    pre_commit = _user_hook(hooks / "pre-commit", log)
    pre_push = _user_hook(hooks / "pre-push", log, f"cat >> {log}\n")

    changes = json.loads(run_gitml("install", "--json", cwd=root).stdout)["hooks"]
    assert "pre-commit.pre-gitml" in next(c for c in changes if c["hook"] == "pre-commit")["detail"]
    assert (hooks / "pre-commit.pre-gitml").read_text() == pre_commit
    run_gitml("install", cwd=root)  # again: the saved hooks stay as they are
    assert (hooks / "pre-commit.pre-gitml").read_text() == pre_commit

    write(root / "code.py", "print(1)\n")
    git("add", "code.py", cwd=root)
    done = _git("commit", "-qm", "code", cwd=root)
    assert done.returncode == 0, done.stderr
    done = _git("push", "-q", str(bare), "main", cwd=root)
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "pre-commit.pre-gitml "
    assert lines[1].startswith("pre-push.pre-gitml " + str(bare))
    head = git("rev-parse", "HEAD", cwd=root).strip()
    assert lines[2] == f"refs/heads/main {head} refs/heads/main {'0' * 40}"  # stdin reached it
    assert _oids(root, "model.bin") <= _objects(store)  # and gitml's part ran too

    removed = json.loads(run_gitml("install", "--uninstall", "--json", cwd=root).stdout)["hooks"]
    assert {c["hook"]: c["action"] for c in removed} == {
        "pre-commit": "restored",
        "pre-push": "restored",
        "post-checkout": "removed",
        "post-merge": "removed",
    }
    assert (hooks / "pre-commit").read_text() == pre_commit
    assert (hooks / "pre-push").read_text() == pre_push
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) == [
        "pre-commit",
        "pre-push",
    ]
    # uninstalling twice changes nothing
    again = json.loads(run_gitml("install", "--uninstall", "--json", cwd=root).stdout)["hooks"]
    assert {c["action"] for c in again} == {"absent"}
    assert (hooks / "pre-commit").read_text() == pre_commit


def test_a_failing_user_pre_commit_hook_still_stops_the_commit(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    hooks = root / ".git" / "hooks"
    _user_hook(hooks / "pre-commit", tmp_path / "log", "exit 3\n")
    run_gitml("install", cwd=root)
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    head = git("rev-parse", "HEAD", cwd=root)
    assert _git("commit", "-qm", "x", cwd=root).returncode != 0
    assert git("rev-parse", "HEAD", cwd=root) == head


def test_install_refuses_when_it_has_nowhere_to_keep_a_user_hook(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    hooks = root / ".git" / "hooks"
    _user_hook(hooks / "post-merge", tmp_path / "log")
    _user_hook(hooks / "post-merge.pre-gitml", tmp_path / "log")
    done = run_gitml("install", cwd=root, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("gitml: error: ")
    assert "post-merge.pre-gitml already exists" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (hooks / "pre-commit").exists()  # nothing half installed


def test_pre_commit_strict_blocks_a_commit_with_a_stale_pointer(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", "--strict", cwd=root)
    write(root / "data" / "a.txt", "changed, never recorded\n")
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    head = git("rev-parse", "HEAD", cwd=root)
    done = _git("commit", "-qm", "stale", cwd=root)
    assert done.returncode == 1
    assert "modified:" in done.stderr and "data" in done.stderr
    assert "commit stopped" in done.stderr
    assert git("rev-parse", "HEAD", cwd=root) == head

    # recorded but the pointer not staged: still stopped
    run_gitml("commit", cwd=root)
    done = _git("commit", "-qm", "stale", cwd=root)
    assert done.returncode == 1
    assert "pointer not staged:" in done.stderr and "data.gitml" in done.stderr
    assert git("rev-parse", "HEAD", cwd=root) == head

    git("add", "data.gitml", cwd=root)
    done = _git("commit", "-qm", "recorded", cwd=root)
    assert done.returncode == 0, done.stderr
    assert git("rev-parse", "HEAD", cwd=root) != head
    assert "gitml" not in done.stderr


def test_pre_commit_without_strict_warns_and_commits(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", cwd=root)
    write(root / "model.bin", b"\x00changed")
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    head = git("rev-parse", "HEAD", cwd=root)
    done = _git("commit", "-qm", "warned", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "modified:" in done.stderr and "model.bin" in done.stderr
    assert git("rev-parse", "HEAD", cwd=root) != head


def test_pre_commit_names_an_interrupted_checkout_instead_of_data_changes(
    tmp_path: Path,
) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", "--strict", cwd=root)
    # What kill -9 of a checkout leaves: its journal and a file cut short under its name.
    write(root / ".gitml" / "tmp" / "checkout-journal", "data/a.txt\n")
    write(root / "data" / "a.txt", "")
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    head = git("rev-parse", "HEAD", cwd=root)
    done = _git("commit", "-qm", "torn", cwd=root)
    assert done.returncode == 1
    assert "a checkout was interrupted" in done.stderr and "data/a.txt" in done.stderr
    assert "modified:" not in done.stderr
    assert git("rev-parse", "HEAD", cwd=root) == head
    run_gitml("checkout", cwd=root)
    done = _git("commit", "-qm", "after checkout", cwd=root)
    assert done.returncode == 0, done.stderr
    assert git("rev-parse", "HEAD", cwd=root) != head


def test_pre_commit_remembers_clean_outputs_but_still_sees_changes(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    old = time.time() - 3600  # older than the racy window, so the clean state is recorded
    for p in [root / "model.bin", *(root / "data").rglob("*")]:
        os.utime(p, (old, old))
    run_gitml("install", "--strict", cwd=root)
    write(root / "code.py", "x\n")
    git("add", "code.py", cwd=root)
    assert _git("commit", "-qm", "clean", cwd=root).returncode == 0
    remembered = json.loads((root / ".gitml" / "tmp" / "clean-outputs.json").read_text())
    assert sorted(remembered) == ["data", "model.bin"]

    (root / "data" / "b.txt").write_text("BEE\n")  # same size, new content
    write(root / "code.py", "y\n")
    git("add", "code.py", cwd=root)
    done = _git("commit", "-qm", "stale", cwd=root)
    assert done.returncode == 1
    assert "modified:" in done.stderr and "data" in done.stderr


def test_hooks_go_where_core_hookspath_points(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    git("config", "core.hooksPath", str(tmp_path / "team-hooks"), cwd=root)
    run_gitml("install", cwd=root)
    assert (tmp_path / "team-hooks" / "post-checkout").is_file()
    assert not (root / ".git" / "hooks" / "post-checkout").exists()
    _commit_v2(root)
    assert _git("checkout", "-q", "HEAD~1", cwd=root).returncode == 0
    assert (root / "model.bin").read_bytes() == b"\x00model v1"


def test_linked_worktree_uses_the_shared_hooks(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    _commit_v2(root)
    other = tmp_path / "other"
    git("worktree", "add", "-q", "--detach", str(other), "HEAD~1", cwd=root)
    run_gitml("install", cwd=other)
    assert (root / ".git" / "hooks" / "post-checkout").is_file()
    # a fresh worktree has no data yet; share the main worktree's cache, which has both
    cache = root / ".gitml" / "cache"
    (other / ".gitml" / "config.local").write_text(f'[cache]\ndir = "{cache}"\n')
    run_gitml("checkout", cwd=other)
    assert (other / "model.bin").read_bytes() == b"\x00model v1"
    assert _git("checkout", "-q", "main~0", cwd=other).returncode == 0
    assert (other / "model.bin").read_bytes() == b"\x00model v2"


def test_hook_falls_back_to_gitml_on_path(tmp_path: Path) -> None:
    from gitml import hooks

    root = _workspace(tmp_path)
    hooks.install(root, python=str(tmp_path / "gone" / "python"))
    _commit_v2(root)
    assert GITML
    with_gitml = {"PATH": f"{Path(GITML).parent}:{os.environ['PATH']}"}
    assert _git("checkout", "-q", "HEAD~1", cwd=root, env=with_gitml).returncode == 0
    assert (root / "model.bin").read_bytes() == b"\x00model v1"

    bare_path = "/usr/bin:/bin"
    done = _git("checkout", "-q", "main", cwd=root, env={"PATH": bare_path})
    assert "gitml: not found" in done.stderr
    assert (root / "model.bin").read_bytes() == b"\x00model v1"  # the hook could not run


def test_hooks_in_a_repository_without_gitml_do_nothing(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    run_gitml("install", cwd=root)
    git("rm", "-rq", ".gitml", cwd=root)
    write(root / "x.txt", "x\n")
    git("add", "x.txt", cwd=root)
    done = _git("commit", "-qm", "no gitml", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("gitml.pipeline") is None,
    reason="pipelines (gitml.yaml stages) are not in this build yet",
)
def test_pre_commit_strict_blocks_a_stale_gitml_lock(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    write(root / "params.yaml", "lr: 0.1\n")
    write(
        root / "train.py",
        "import yaml\nopen('out.txt','w').write(str(yaml.safe_load(open('params.yaml'))))\n",
    )
    run_gitml("stage", "add", "-n", "train", "-d", "train.py", "-p", "lr", "-o", "out.txt",
              f"{sys.executable} train.py", cwd=root)  # fmt: skip
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "pipeline", cwd=root)
    run_gitml("install", "--strict", cwd=root)
    write(root / "params.yaml", "lr: 0.5\n")
    head = git("rev-parse", "HEAD", cwd=root)
    done = _git("commit", "-qam", "lr without repro", cwd=root)
    assert done.returncode == 1
    assert "stage stale:" in done.stderr and "train" in done.stderr
    assert git("rev-parse", "HEAD", cwd=root) == head
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    done = _git("commit", "-qm", "lr with repro", cwd=root)
    assert done.returncode == 0, done.stderr
