"""`exp run --temp`, `--queue` / `--run-all -j`, and `exp push` / `exp pull`."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.exp_support import log_env, make_pipeline, ran
from tests.cli.helpers import assert_user_error, object_path, porcelain, read_tree
from tests.conftest import git, make_repo, run_gitml, write


@pytest.fixture
def pipe(repo: Path) -> Path:
    make_pipeline(repo)
    (repo.parent / "stage-runs.log").unlink()
    return repo


def gm(root: Path, *args: str, check: bool = True) -> Any:
    return run_gitml(*args, cwd=root, check=check, env=log_env(root))


def experiments(root: Path, *args: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(gm(root, "exp", "show", "--json", *args).stdout)
    return {e["name"]: e for e in doc["experiments"]}


def workspace_files(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in read_tree(root).items() if not k.startswith((".gitml/", ".git/"))}


def test_temp_leaves_the_workspace_byte_identical_and_carries_uncommitted_code(
    pipe: Path,
) -> None:
    train = pipe / "train.py"
    train.write_text(train.read_text().replace('"size": size', '"size": size * 10'))
    before_files, before_status = workspace_files(pipe), porcelain(pipe)
    head = git("rev-parse", "HEAD", cwd=pipe)
    gm(pipe, "exp", "run", "--temp", "-S", "train.lr=0.2", "-n", "tmp")
    assert workspace_files(pipe) == before_files
    assert porcelain(pipe) == before_status
    assert git("rev-parse", "HEAD", cwd=pipe) == head
    assert git("worktree", "list", "--porcelain", cwd=pipe).count("worktree ") == 1
    exp = experiments(pipe)["tmp"]
    assert exp["state"] == "success"
    assert exp["metrics"]["metrics.json"] == {"acc": 0.9, "size": 40}  # the uncommitted code ran
    assert exp["meta"]["dirty"] is True
    assert "size * 10" in git("show", f"{exp['rev']}:train.py", cwd=pipe)
    # Its outputs are in the shared cache: apply puts them in the workspace.
    gm(pipe, "exp", "apply", "tmp", "--force")
    assert (pipe / "model.bin").read_text().startswith("model lr=0.2 ")


def test_temp_links_tracked_data_from_the_cache_instead_of_copying(repo: Path) -> None:
    write(repo / "big.bin", os.urandom(1 << 20))
    run_gitml("add", "big.bin", cwd=repo)
    write(repo / "params.yaml", "n: 1\n")
    code = "import os; open('inode.txt','w').write(str(os.stat('big.bin').st_ino))"
    cmd = shlex.join([sys.executable, "-c", code])
    run_gitml("stage", "add", "-n", "look", "-d", "big.bin", "-p", "n", "-O", "inode.txt", cmd,
              cwd=repo)  # fmt: skip
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    run_gitml("exp", "run", "--temp", "-S", "n=2", "-n", "peek", cwd=repo)
    oid = (repo / "big.bin.gitml").read_text().split("oid: ")[1].split()[0]
    rev = json.loads(run_gitml("exp", "show", "--json", cwd=repo).stdout)["experiments"][0]["rev"]
    inode = int(git("show", f"{rev}:inode.txt", cwd=repo))
    assert inode == os.stat(object_path(repo, oid)).st_ino  # a link, not a copy


def test_queue_then_run_all_in_parallel_runs_a_shared_stage_once(pipe: Path) -> None:
    before = workspace_files(pipe)
    out = gm(pipe, "exp", "run", "--queue", "-S", "prep.n=2,3", "-S", "train.lr=0.1,666")
    assert out.stdout.count("Queued experiment") == 4
    assert ran(pipe) == []
    queued = experiments(pipe)
    assert {e["state"] for e in queued.values()} == {"queued"}
    assert_user_error(gm(pipe, "exp", "run", "--queue", "-S", "nope=1", check=False), "nope")

    result = gm(pipe, "exp", "run", "--run-all", "-j", "2", check=False)
    assert_user_error(result, "2 of 4 experiments failed")
    assert workspace_files(pipe) == before
    done = experiments(pipe)
    states = {
        (e["params"]["params.yaml"]["prep.n"], e["params"]["params.yaml"]["train.lr"]): e["state"]
        for e in done.values()
    }
    assert states == {(2, 0.1): "success", (3, 0.1): "success", (2, 666): "failed",
                      (3, 666): "failed"}  # fmt: skip
    log = ran(pipe)
    assert log.count("prep") == 2  # once per value of prep.n, though two ran at once
    assert log.count("train") == 4
    size = {e["params"]["params.yaml"]["prep.n"]: e["metrics"] for e in done.values()}
    assert size[3]["metrics.json"]["size"] == 12
    assert git("worktree", "list", "--porcelain", cwd=pipe).count("worktree ") == 1


def test_rm_queued(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.2", "-n", "done")
    gm(pipe, "exp", "run", "--queue", "-S", "train.lr=0.3,0.4")
    gm(pipe, "exp", "rm", "--queued")
    assert set(experiments(pipe)) == {"done"}


def test_push_and_pull_share_refs_through_git_and_outputs_through_the_remote(
    tmp_path: Path, pipe: Path
) -> None:
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=pipe)
    git("push", "-q", "origin", "main", cwd=pipe)
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=pipe)
    gm(pipe, "push")
    gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "shared")
    out = json.loads(gm(pipe, "exp", "push", "origin", "shared", "--json").stdout)
    assert out["experiments"] == ["shared"] and out["objects"] >= 1
    head = git("rev-parse", "HEAD", cwd=pipe).strip()
    remote_refs = git("ls-remote", str(bare), "refs/gitml/*", cwd=tmp_path)
    assert f"refs/gitml/exps/{head}/shared" in remote_refs

    other = make_repo(tmp_path / "other")
    git("pull", "-q", str(bare), "main", cwd=other)
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=other)
    git("remote", "add", "origin", str(bare), cwd=other)
    out = json.loads(run_gitml("exp", "pull", "origin", "--json", cwd=other).stdout)
    assert out["experiments"] == ["shared"]
    assert experiments(other)["shared"]["metrics"]["metrics.json"]["acc"] == 0.8
    run_gitml("exp", "apply", "shared", cwd=other)
    assert (other / "model.bin").read_text().startswith("model lr=0.3 ")
    assert yaml.safe_load((other / "params.yaml").read_text())["train"]["lr"] == 0.3


def test_push_errors_are_one_line(tmp_path: Path, pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "x")
    assert_user_error(gm(pipe, "exp", "push", "nosuch", check=False), "no git remote named")
    head = git("rev-parse", "HEAD", cwd=pipe).strip()
    empty_tree = git("hash-object", "-t", "tree", "-w", "--stdin", cwd=pipe).strip()
    bogus = git("commit-tree", empty_tree, "-p", head, "-m", "not an experiment", cwd=pipe)
    git("update-ref", f"refs/gitml/exps/{head}/bogus", bogus.strip(), cwd=pipe)
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=pipe)
    result = gm(pipe, "exp", "push", "origin", "bogus", check=False)
    assert_user_error(result, "'bogus'", "no gitml.lock")
    assert git("ls-remote", str(bare), cwd=tmp_path) == ""
