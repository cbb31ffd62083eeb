"""A small project with a training stage: params -> model.bin and metrics.json (a cached
stage out, as `-m` makes it), committed to real git, retrained at will."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git, make_repo, run_gitml, write

TRAIN = """\
import json, yaml
p = yaml.safe_load(open("params.yaml"))
open("model.bin", "wb").write(("model auc=%s" % p["auc"]).encode() * 100)
json.dump({"auc": p["auc"], "loss": p["loss"], "eval": {"f1": p["auc"] - 0.1}},
          open("metrics.json", "w"))
"""


def make_project(path: Path, *, artifacts: bool = True) -> Path:
    root = make_repo(path)
    run_gitml("init", cwd=root)
    write(root / "train.py", TRAIN)
    write(root / "params.yaml", "auc: 0.8\nloss: 0.3\n")
    run_gitml(
        "stage", "add", "-n", "train", "-d", "train.py", "-p", "auc,loss",
        "-o", "model.bin", "-m", "metrics.json", "python train.py", cwd=root,
    )  # fmt: skip
    if artifacts:
        text = (root / "gitml.yaml").read_text()
        write(root / "gitml.yaml", text + "artifacts:\n  churn:\n    path: model.bin\n")
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "train", cwd=root)
    return root


def retrain(root: Path, auc: float, loss: float, *, commit: bool = True) -> str:
    write(root / "params.yaml", f"auc: {auc}\nloss: {loss}\n")
    run_gitml("repro", cwd=root)
    if commit:
        git("add", "-A", cwd=root)
        git("commit", "-q", "-m", f"auc {auc}", cwd=root)
    return git("rev-parse", "HEAD", cwd=root).strip()


def tags(root: Path) -> dict[str, str]:
    """tag name -> commit it points at (annotated tags peeled)."""
    out = git("for-each-ref", "--format=%(refname:strip=2) %(*objectname)", "refs/tags", cwd=root)
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def loads(text: str) -> dict:  # type: ignore[type-arg]
    return json.loads(text)  # type: ignore[no-any-return]
