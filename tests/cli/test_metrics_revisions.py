"""Metrics and params at any revision, through the installed `gitml`: a metrics file that
is a cached stage out (`-m`) is read through gitml.lock at the revision, from the cache or
the default remote; revisions are branches, tags, shas and `HEAD~N`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tests.cli.helpers import cache_dir, verify_cache
from tests.conftest import git, run_gitml, write

TRAIN = """\
import json, os, yaml
params = yaml.safe_load(open("params.yaml"))
lr = params["train"]["lr"]
json.dump({"acc": round(1 - lr, 6), "loss": {"test": round(lr * 10, 6)}}, open("metrics.json", "w"))
open("model.bin", "w").write(f"model lr={lr}\\n")
os.makedirs("eval", exist_ok=True)
open("eval/roc.csv", "w").write(f"fpr,tpr\\n0,0\\n{lr},1\\n")
"""


def _pipeline(repo: Path) -> None:
    """The issue's scenario: stage with -m, repro, commit (v1), change a param, repro,
    commit. HEAD~1 has lr 0.1, HEAD lr 0.3."""
    write(repo / "train.py", TRAIN)
    write(repo / "params.yaml", "train:\n  lr: 0.1  # learning rate\n  epochs: 3\n")
    run_gitml(
        "stage", "add", "-n", "train", "-d", "train.py", "-p", "train.lr",
        "-o", "model.bin", "-o", "eval", "-m", "metrics.json",
        f"{sys.executable} train.py", cwd=repo,
    )  # fmt: skip
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "lr 0.1", cwd=repo)
    git("tag", "v1", cwd=repo)
    write(repo / "params.yaml", "train:\n  lr: 0.3  # learning rate\n  epochs: 3\n")
    run_gitml("repro", cwd=repo)


def _commit(repo: Path, message: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def test_metrics_diff_of_cached_metrics_at_revisions(repo: Path) -> None:
    _pipeline(repo)
    # metrics.json is a cached out: git does not have it, gitml.lock at HEAD names it.
    assert "metrics.json" not in git("ls-files", cwd=repo).split()
    against_head = json.loads(run_gitml("metrics", "diff", "HEAD", "--json", cwd=repo).stdout)
    assert against_head == {
        "metrics.json": {
            "acc": {"old": 0.9, "new": 0.7, "diff": -0.2},
            "loss.test": {"old": 1.0, "new": 3.0, "diff": 2.0},
        }
    }
    _commit(repo, "lr 0.3")
    text = run_gitml("metrics", "diff", "HEAD~1", "HEAD", cwd=repo).stdout.splitlines()
    assert text[0].split() == ["Path", "Metric", "HEAD~1", "HEAD", "Change"]
    assert text[1].split() == ["metrics.json", "acc", "0.9", "0.7", "-0.2"]
    assert text[2].split() == ["metrics.json", "loss.test", "1", "3", "+2"]
    params = json.loads(run_gitml("params", "diff", "v1", "main", "--json", cwd=repo).stdout)
    assert params == {"params.yaml": {"train.lr": {"old": 0.1, "new": 0.3, "diff": 0.2}}}
    # Several revisions by tag, sha and relative name, in one JSON document.
    sha = git("rev-parse", "HEAD~1", cwd=repo).strip()
    shown = json.loads(
        run_gitml("metrics", "show", "--rev", "v1", "--rev", sha, "-R", "HEAD", "--json",
                  cwd=repo).stdout
    )  # fmt: skip
    assert list(shown) == ["workspace", "v1", sha, "HEAD"]
    assert shown["v1"] == shown[sha] == {"metrics.json": {"acc": 0.9, "loss.test": 1.0}}
    assert shown["HEAD"]["metrics.json"]["acc"] == 0.7 == shown["workspace"]["metrics.json"]["acc"]
    # A branch made at the old commit.
    git("branch", "old", "v1", cwd=repo)
    by_branch = json.loads(run_gitml("metrics", "diff", "old", "--json", cwd=repo).stdout)
    assert by_branch["metrics.json"]["acc"] == {"old": 0.9, "new": 0.7, "diff": -0.2}


def test_unknown_revision_is_one_line(repo: Path) -> None:
    _pipeline(repo)
    for args in (
        ["metrics", "diff", "nope"],
        ["metrics", "diff", "HEAD", "nope"],
        ["metrics", "show", "-R", "nope"],
        ["params", "diff", "nope"],
    ):
        bad = run_gitml(*args, cwd=repo, check=False)
        assert bad.returncode == 1, args
        assert bad.stderr == "gitml: error: unknown revision 'nope'\n", args
        assert bad.stdout == ""


def test_metrics_at_revision_from_the_remote_then_cache(repo: Path, tmp_path: Path) -> None:
    _pipeline(repo)
    _commit(repo, "lr 0.3")
    run_gitml("remote", "add", "partial", str(tmp_path / "partial"), cwd=repo)
    run_gitml("push", "-r", "partial", "--no-run-cache", cwd=repo)  # only HEAD's outputs
    run_gitml("remote", "add", "-d", "origin", str(tmp_path / "store"), cwd=repo)
    run_gitml("push", "--rev", "HEAD~1", "--rev", "HEAD", cwd=repo)
    shutil.rmtree(cache_dir(repo))
    # Neither revision's metrics are in the cache now: both come from the folder remote.
    diff = json.loads(run_gitml("metrics", "diff", "HEAD~1", "HEAD", "--json", cwd=repo).stdout)
    assert diff["metrics.json"]["acc"] == {"old": 0.9, "new": 0.7, "diff": -0.2}
    # ... and were fetched into the cache, verified, as `gitml fetch` would.
    fetched = verify_cache(repo)
    assert len(fetched) == 2
    assert {p.read_bytes() for p in fetched.values()} == {
        (repo / "metrics.json").read_bytes(),
        json.dumps({"acc": 0.9, "loss": {"test": 1.0}}).encode(),
    }
    # A default remote that lacks the old metrics: one line naming file, revision, remote.
    run_gitml("remote", "default", "partial", cwd=repo)
    shutil.rmtree(cache_dir(repo))
    bad = run_gitml("metrics", "show", "-R", "v1", cwd=repo, check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    line = bad.stderr.splitlines()[0]
    assert line.startswith("gitml: error: metrics.json at v1: object blake3:")
    assert line.endswith("is neither in the cache nor on remote 'partial'")
    assert "Traceback" not in bad.stderr
    # HEAD's metrics are on that remote; the workspace's need nothing from anywhere.
    shown = json.loads(run_gitml("metrics", "show", "-R", "HEAD", "--json", cwd=repo).stdout)
    assert shown["HEAD"] == shown["workspace"] == {"metrics.json": {"acc": 0.7, "loss.test": 3.0}}


def test_no_remote_configured_names_the_file(repo: Path) -> None:
    _pipeline(repo)
    _commit(repo, "lr 0.3")
    shutil.rmtree(cache_dir(repo))
    bad = run_gitml("metrics", "diff", "HEAD~1", "HEAD", cwd=repo, check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    line = bad.stderr.splitlines()[0]
    assert line.startswith("gitml: error: metrics.json at HEAD~1: object blake3:")
    assert line.endswith("is not in the cache and no remote is configured")


def test_metrics_declared_only_at_the_old_revision(repo: Path) -> None:
    """A metrics file the pipeline declared at REV is shown at REV even after the stage
    is gone from the workspace's gitml.yaml."""
    _pipeline(repo)
    _commit(repo, "lr 0.3")
    write(repo / "gitml.yaml", "stages:\n  other:\n    cmd: echo hi\n")
    shown = json.loads(run_gitml("metrics", "show", "-R", "HEAD", "--json", cwd=repo).stdout)
    assert shown["HEAD"] == {"metrics.json": {"acc": 0.7, "loss.test": 3.0}}
    assert shown["workspace"] == {}
