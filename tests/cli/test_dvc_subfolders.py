"""Pipelines in subfolders, as DVC finds every dvc.yaml: one gitml.lock beside each
gitml.yaml, paths/wdir/vars/params relative to the file's folder, `file:stage` addresses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git, run_gitml, write

# A small copy of a monorepo layout: a root pipeline that prepares data, and one pipeline
# per experiment folder (one runs from the repository root with `wdir: ../..` and `vars`).
ROOT_PIPELINE = """\
stages:
  prepare:
    cmd: cat raw.txt raw.txt > data/prepared.txt
    deps: [raw.txt]
    outs: [data/prepared.txt]
"""
EXP_A = """\
vars:
  - config.yaml
stages:
  train:
    wdir: ../..
    cmd: >-
      echo ${name} lr=${lr} > exps/a/model.txt && cat data/prepared.txt >> exps/a/model.txt
      && echo '{"acc": 0.5}' > exps/a/metrics.json
    deps: [data/prepared.txt]
    params:
      - exps/a/params.yaml:
          - lr
    outs: [exps/a/model.txt]
    metrics:
      - exps/a/metrics.json:
          cache: false
"""
EXP_B = """\
stages:
  train:
    cmd: echo b lr=${lr} > model.txt
    deps: [../../data/prepared.txt]
    params: [lr]
    outs: [model.txt]
"""


def _layout(repo: Path) -> None:
    write(repo / "raw.txt", "raw\n")
    write(repo / "gitml.yaml", ROOT_PIPELINE)
    write(repo / "exps/a/gitml.yaml", EXP_A)
    write(repo / "exps/a/config.yaml", "name: alpha\n")
    write(repo / "exps/a/params.yaml", "lr: 0.1\n")
    write(repo / "exps/b/gitml.yaml", EXP_B)
    write(repo / "exps/b/params.yaml", "lr: 0.2\n")


def test_every_gitml_yaml_runs_with_paths_relative_to_its_folder(repo: Path) -> None:
    _layout(repo)
    listed = json.loads(run_gitml("stage", "list", "--json", cwd=repo).stdout)["stages"]
    assert [(s["name"], s["wdir"]) for s in listed] == [
        ("prepare", "."),
        ("exps/a/gitml.yaml:train", "."),
        ("exps/b/gitml.yaml:train", "exps/b"),
    ]
    assert listed[2]["deps"] == ["data/prepared.txt"]
    run_gitml("repro", cwd=repo)
    assert (repo / "exps/a/model.txt").read_text() == "alpha lr=0.1\nraw\nraw\n"
    assert (repo / "exps/b/model.txt").read_text() == "b lr=0.2\n"
    for lock in ("gitml.lock", "exps/a/gitml.lock", "exps/b/gitml.lock"):
        assert (repo / lock).is_file(), lock
    root_lock = (repo / "gitml.lock").read_text()
    assert "prepare:" in root_lock and "train:" not in root_lock
    assert "train:" in (repo / "exps/b/gitml.lock").read_text()
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
    dry = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)
    assert {s["name"]: s["outcome"] for s in dry["stages"]} == {
        "prepare": "unchanged",
        "exps/a/gitml.yaml:train": "unchanged",
        "exps/b/gitml.yaml:train": "unchanged",
    }
    dag = run_gitml("dag", cwd=repo).stdout.splitlines()
    assert "exps/b/gitml.yaml:train  <- prepare" in dag
    # Stage outs of every gitml.lock come back with checkout.
    (repo / "exps/b/model.txt").unlink()
    run_gitml("checkout", cwd=repo)
    assert (repo / "exps/b/model.txt").read_text() == "b lr=0.2\n"


def test_addressing_status_and_params_diff_across_files(repo: Path) -> None:
    _layout(repo)
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "run", cwd=repo)
    ambiguous = run_gitml("repro", "train", cwd=repo, check=False)
    assert ambiguous.returncode == 1
    assert "ambiguous" in ambiguous.stderr
    assert "exps/a/gitml.yaml:train" in ambiguous.stderr
    write(repo / "exps/b/params.yaml", "lr: 0.3\n")
    status = run_gitml("status", "--json", cwd=repo)
    stale = [s["name"] for s in json.loads(status.stdout)["stages"]]
    assert stale == ["exps/b/gitml.yaml:train"]
    diff = json.loads(run_gitml("params", "diff", "--json", cwd=repo).stdout)
    assert diff == {"exps/b/params.yaml": {"lr": {"old": 0.2, "new": 0.3, "diff": 0.1}}}
    out = run_gitml("repro", "exps/b/gitml.yaml:train", cwd=repo).stdout
    assert "Running stage 'exps/b/gitml.yaml:train'" in out
    assert "prepare" not in out.replace("up to date", "")
    assert (repo / "exps/b/model.txt").read_text() == "b lr=0.3\n"
    write(repo / "exps/a/metrics.json", '{"acc": 0.75}\n')
    metrics = json.loads(run_gitml("metrics", "diff", "--json", cwd=repo).stdout)
    assert metrics["exps/a/metrics.json"]["acc"]["new"] == 0.75


def test_add_refuses_an_output_of_a_subfolder_stage(repo: Path) -> None:
    _layout(repo)
    write(repo / "exps/b/model.txt", "made by hand\n")
    result = run_gitml("add", "exps/b/model.txt", cwd=repo, check=False)
    assert result.returncode == 1
    assert "is output 'exps/b/model.txt' of stage 'exps/b/gitml.yaml:train'" in result.stderr
    assert not (repo / "exps/b/model.txt.gitml").exists()
