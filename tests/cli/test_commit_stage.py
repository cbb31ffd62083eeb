"""`gitml commit` of stage outputs already in the workspace (as `dvc commit`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import b3, verify_cache
from tests.conftest import run_gitml, write

PIPELINE = """\
stages:
  train:
    cmd: touch ran-train && cp data.txt model.bin
    deps: [data.txt]
    params: [lr]
    outs: [model.bin]
  report:
    cmd: touch ran-report && cp model.bin sub/report.txt
    deps: [model.bin]
    outs: [sub/report.txt]
"""


def _setup(repo: Path) -> None:
    write(repo / "params.yaml", "lr: 0.1\n")
    write(repo / "data.txt", "data v1\n")
    write(repo / "gitml.yaml", PIPELINE)


def test_commit_records_existing_outputs_without_running(repo: Path) -> None:
    _setup(repo)
    write(repo / "model.bin", "trained elsewhere\n")  # e.g. produced on a GPU box
    stale = json.loads(run_gitml("status", "--json", cwd=repo).stdout)["stages"]
    assert [s["name"] for s in stale] == ["train", "report"]
    out = run_gitml("commit", cwd=repo).stdout
    assert "Committed stage 'train'" in out
    assert "report" not in out  # its output does not exist yet: nothing to record
    assert not (repo / "ran-train").exists()
    lock = (repo / "gitml.lock").read_text()
    assert b3(b"trained elsewhere\n") in lock and "lr: 0.1" in lock
    assert b3(b"trained elsewhere\n") in verify_cache(repo)
    dry = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)["stages"]
    assert {s["name"]: s["outcome"] for s in dry} == {"train": "unchanged", "report": "would run"}
    # A path that is a stage output names its stage; a stage may be named too.
    write(repo / "sub/report.txt", "by hand\n")
    assert "Committed stage 'report'" in run_gitml("commit", "sub/report.txt", cwd=repo).stdout
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
    write(repo / "model.bin", "retrained\n")
    assert "Committed stage 'train'" in run_gitml("commit", "train", cwd=repo).stdout
    assert b3(b"retrained\n") in (repo / "gitml.lock").read_text()
    assert not (repo / "ran-train").exists() and not (repo / "ran-report").exists()


def test_commit_of_a_stage_whose_output_is_missing_fails(repo: Path) -> None:
    _setup(repo)
    result = run_gitml("commit", "train", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[0] == (
        "gitml: error: stage 'train': output 'model.bin' does not exist"
    )
    assert not (repo / "gitml.lock").exists()
