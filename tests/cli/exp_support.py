"""A small two-stage ML pipeline for experiment tests: `prep` (param prep.n) feeds
`train` (params train.*, a model and a cached metrics file). Each stage appends its name
to the file named by $EXP_LOG (outside the workspace), so tests count what really ran;
`train` fails, printing to stderr, when train.lr is 666."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.conftest import git, run_gitml, write

PARAMS = """\
# experiment parameters
prep:
  n: 1
train:
  lr: 0.01   # learning rate
  epochs: 2
"""

PREP = """\
import os, yaml
p = yaml.safe_load(open("params.yaml"))
open(os.environ["EXP_LOG"], "a").write("prep\\n")
data = open("data.txt").read()
open("prep.txt", "w").write(data * p["prep"]["n"])
"""

TRAIN = """\
import json, os, sys, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
open(os.environ["EXP_LOG"], "a").write("train\\n")
if p["lr"] == 666:
    print("loss is nan: diverged", file=sys.stderr)
    sys.exit(3)
size = len(open("prep.txt").read())
open("model.bin", "w").write(f"model lr={p['lr']} epochs={p['epochs']} size={size}\\n")
json.dump({"acc": round(1 - abs(p["lr"] - 0.1), 4), "size": size}, open("metrics.json", "w"))
"""


def make_pipeline(root: Path) -> None:
    """Write, run and commit the pipeline: HEAD is the baseline."""
    write(root / "params.yaml", PARAMS)
    write(root / "prep.py", PREP)
    write(root / "train.py", TRAIN)
    write(root / "data.txt", "abc\n")
    py = shlex.quote(sys.executable)
    run_gitml("stage", "add", "-n", "prep", "-d", "data.txt", "-d", "prep.py", "-p", "prep.n",
              "-o", "prep.txt", f"{py} prep.py", cwd=root)  # fmt: skip
    run_gitml("stage", "add", "-n", "train", "-d", "prep.txt", "-d", "train.py", "-p", "train",
              "-o", "model.bin", "-m", "metrics.json", f"{py} train.py", cwd=root)  # fmt: skip
    run_gitml("repro", cwd=root, env=log_env(root))
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "baseline", cwd=root)


def log_path(root: Path) -> Path:
    return root.parent / "stage-runs.log"


def log_env(root: Path) -> dict[str, str]:
    return {"EXP_LOG": str(log_path(root))}


def ran(root: Path) -> list[str]:
    path = log_path(root)
    return path.read_text().split() if path.exists() else []
