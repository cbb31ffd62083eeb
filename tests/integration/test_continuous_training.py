"""The continuous-training recipe of docs/ci/continuous-training.md played end to end on a
local bare git repository and a folder remote: a CI job (a fresh clone each time) runs
the recipe's commands in order after new data is pushed. Better data gives a better
model that is registered and promoted to prod; worse data gives a model that is
registered but not promoted (the promote gate exits 1 and writes no stage tag)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GITML, git, make_repo, run_gitml, write

TRAIN = """\
import json, yaml
rows = [r for r in open("data/train.csv").read().splitlines()[1:] if r]
good = sum(1 for r in rows if r.endswith(",ok"))
auc = round(good / len(rows), 4)
open("model.bin", "w").write(f"model trained on {len(rows)} rows, auc {auc}\\n")
json.dump({"auc": auc, "rows": len(rows)}, open("metrics.json", "w"))
"""

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py, data/train.csv]
    outs: [model.bin]
    metrics: [metrics.json]
artifacts:
  model: {path: model.bin}
checks:
  metrics:
    fail_if: ["rows < 1"]
  schemas:
    data/train.csv: schemas/train.yaml
"""

SCHEMA = """\
gitml-schema: 1
rows: {min: 1}
columns:
  id: {type: int64, nullable: false, unique: true}
  label: {type: string, allowed: [ok, bad]}
"""

PROMOTE_GATE = "change(auc) < 0"


def _commands_available() -> bool:
    for command in ("validate", "check", "model"):
        probe = subprocess.run([GITML or "gitml", command, "--help"], capture_output=True)
        if probe.returncode != 0:
            return False
    return True


pytestmark = pytest.mark.skipif(
    not _commands_available(),
    reason="needs gitml validate, check and model (data checks and registry, SPEC 7.3-7.5)",
)


def _data(ok: int, bad: int) -> str:
    labels = ["ok"] * ok + ["bad"] * bad
    return "id,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels))


def _prod_tags(origin: Path) -> list[str]:
    out = git("for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags", cwd=origin)
    return sorted(line for line in out.splitlines() if line.startswith("model#prod#"))


def _ci_job(origin: Path, workdir: Path) -> tuple[int, Path]:
    """The recipe, command by command, in a fresh clone; returns (exit code of the first
    failing step or 0, the clone). The gitml remote is the one .gitml/config names."""
    if workdir.exists():
        shutil.rmtree(workdir)
    subprocess.run(["git", "clone", "-q", str(origin), str(workdir)], check=True)
    git("config", "user.email", "ci@example.com", cwd=workdir)
    git("config", "user.name", "CI", cwd=workdir)
    steps: list[tuple[str, ...]] = [
        ("gitml", "pull"),
        ("gitml", "validate", "data/train.csv"),
        ("gitml", "repro", "--pull"),
        ("gitml", "check", "--baseline", "model#prod"),
        ("git", "add", "gitml.lock"),
        ("git", "commit", "-qm", "continuous training"),
        ("gitml", "model", "register", "model", "--bump", "patch"),
        ("gitml", "model", "promote", "model", "latest", "--to", "prod", "--fail-if", PROMOTE_GATE),
        ("gitml", "push"),
        ("git", "push", "-q", "origin", "HEAD:main"),
        ("git", "push", "-q", "--tags"),
    ]
    for step in steps:
        if step[0] == "gitml":
            code = run_gitml(*step[1:], cwd=workdir, check=False).returncode
        else:
            code = subprocess.run(step, cwd=workdir, capture_output=True).returncode
        if code != 0:
            return code, workdir
    return 0, workdir


def test_better_model_is_promoted_and_worse_one_is_not(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    remote = tmp_path / "store"
    dev = make_repo(tmp_path / "dev")
    run_gitml("init", cwd=dev)
    run_gitml("remote", "add", "-d", "store", str(remote), cwd=dev)
    write(dev / "train.py", TRAIN)
    write(dev / "gitml.yaml", PIPELINE)
    write(dev / "schemas" / "train.yaml", SCHEMA)
    write(dev / "data" / "train.csv", _data(ok=6, bad=4))
    run_gitml("add", "data/train.csv", cwd=dev)
    run_gitml("repro", cwd=dev)
    git("add", "-A", cwd=dev)
    git("commit", "-qm", "first model", cwd=dev)
    run_gitml("push", cwd=dev)
    run_gitml("model", "register", "model", cwd=dev)
    run_gitml("model", "promote", "model", "latest", "--to", "prod", cwd=dev)
    git("remote", "add", "origin", str(origin), cwd=dev)
    git("push", "-q", "-u", "origin", "main", cwd=dev)
    git("push", "-q", "--tags", cwd=dev)
    assert len(_prod_tags(origin)) == 1

    # New, better data is pushed (a changed pointer): the job promotes its model.
    write(dev / "data" / "train.csv", _data(ok=9, bad=1))
    run_gitml("add", "data/train.csv", cwd=dev)
    git("commit", "-qam", "more good data", cwd=dev)
    run_gitml("push", cwd=dev)
    git("push", "-q", "origin", "main", cwd=dev)
    code, job = _ci_job(origin, tmp_path / "job1")
    assert code == 0
    prod = _prod_tags(origin)
    assert len(prod) == 2
    assert prod[-1].split()[1] == git("rev-parse", "HEAD", cwd=job).strip()
    assert git("tag", "--points-at", "HEAD", "-l", "model@*", cwd=job).split() == ["model@v0.0.2"]

    # New, worse data: the model is registered but the gate keeps prod where it was.
    git("pull", "-q", "origin", "main", cwd=dev)
    write(dev / "data" / "train.csv", _data(ok=3, bad=7))
    run_gitml("add", "data/train.csv", cwd=dev)
    git("commit", "-qam", "noisy data", cwd=dev)
    run_gitml("push", cwd=dev)
    git("push", "-q", "origin", "main", cwd=dev)
    code, job = _ci_job(origin, tmp_path / "job2")
    assert code == 1
    assert _prod_tags(origin) == prod  # nothing new reached origin
    assert git("tag", "-l", "model#prod#*", "--points-at", "HEAD", cwd=job).split() == []
    assert "model@v0.0.3" in git("tag", "-l", "model@*", cwd=job).split()
