"""A small ML project built through the installed `gitml` and real git, for the lineage,
plots and report tests.

    data/raw.csv       gitml add (commit "raw data")
    data/images/       gitml add, a directory of two files
    prep: prep.py, data/raw.csv            -> data/clean.csv
    train: train.py, data/clean.csv, data/images, params train.lr/train.epochs
           -> model.bin, metrics.json (metrics), loss.csv (plots, x=step y=loss)

Commit "train" records the run; `retrain(root, lr)` changes the learning rate, re-runs
and commits, so each commit has different metrics and plot data.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, make_repo, run_gitml, write

PREP = """\
rows = open("data/raw.csv").read().splitlines()
open("data/clean.csv", "w").write("\\n".join(r.upper() for r in rows if r.strip()) + "\\n")
"""

TRAIN = """\
import json, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
lr, epochs = p["lr"], p["epochs"]
data = open("data/clean.csv").read() + open("data/images/a.png", "rb").read().hex()
open("model.bin", "w").write(f"model lr={lr} epochs={epochs} {len(data)}\\n")
json.dump({"auc": round(0.7 + lr, 4), "loss": round(1 - lr, 4)}, open("metrics.json", "w"))
with open("loss.csv", "w") as f:
    f.write("step,loss\\n")
    for step in range(epochs):
        f.write(f"{step},{round(1 / (1 + step * lr * 10), 4)}\\n")
"""

PIPELINE = """\
stages:
  prep:
    cmd: python prep.py
    deps: [prep.py, data/raw.csv]
    outs: [data/clean.csv]
  train:
    cmd: python train.py
    deps: [train.py, data/clean.csv, data/images]
    params: [train.lr, train.epochs]
    outs: [model.bin]
    metrics: [metrics.json]
    plots:
      - loss.csv: {x: step, y: loss, title: Training loss}
"""

RAW = b"id,value\n1,alpha\n2,beta\n3,gamma\n"


def params(lr: float, epochs: int = 5) -> str:
    return f"train:\n  lr: {lr}\n  epochs: {epochs}\n"


def build(path: Path) -> Path:
    root = make_repo(path)
    run_gitml("init", cwd=root)
    write(root / "data" / "raw.csv", RAW)
    write(root / "data" / "images" / "a.png", b"\x89PNG fake a")
    write(root / "data" / "images" / "b.png", b"\x89PNG fake b")
    run_gitml("add", "data/raw.csv", "data/images", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "raw data", cwd=root)
    write(root / "prep.py", PREP)
    write(root / "train.py", TRAIN)
    write(root / "params.yaml", params(0.1))
    write(root / "gitml.yaml", PIPELINE)
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "train", cwd=root)
    return root


def retrain(root: Path, lr: float, message: str | None = None) -> None:
    write(root / "params.yaml", params(lr))
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", message or f"lr {lr}", cwd=root)
