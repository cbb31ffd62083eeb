"""A small ML project built through the installed `gitml` and real git, for the lineage,
plots and report tests.

    data/raw.csv       gitml add (commit "raw data")
    data/images/       gitml add, a directory of two files
    prep: prep.py, data/raw.csv            -> data/clean.csv
    train: train.py, data/clean.csv, data/images, params train.lr/train.epochs
           -> model.bin, metrics.json (metrics), loss.csv (plots, x=step y=loss)

With `gallery`, a stage `gallery` also draws one plot of each kind under plots/
(confusion, bar, scatter, line from TSV, a PNG image).

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

GALLERY = """\
import json, struct, zlib, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
with open("plots/confusion.csv", "w") as f:
    f.write("actual,predicted\\n")
    for i in range(40):
        actual = ["cat", "dog", "bird"][i % 3]
        wrong = (i * 7) % 10 < int(10 * lr)
        f.write(f"{actual},{['dog', 'bird', 'cat'][i % 3] if wrong else actual}\\n")
json.dump({"importance": [{"feature": n, "weight": round(w * (1 + lr), 3)}
           for n, w in [("age", 0.5), ("income", 0.3), ("city", 0.2)]]},
          open("plots/importance.json", "w"))
yaml.safe_dump([{"predicted": round(i / 10 + lr, 3), "actual": i / 10} for i in range(10)],
               open("plots/scatter.yaml", "w"))
with open("plots/roc.tsv", "w") as f:
    f.write("fpr\\ttpr\\n")
    for i in range(11):
        f.write(f"{i / 10}\\t{round(min(1, (i / 10) ** (lr * 3)), 4)}\\n")
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
shade = int(255 * lr)
rows = b"".join(b"\\0" + bytes([shade, 80, 255 - shade]) * 16 for _ in range(16))
png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
open("plots/sample.png", "wb").write(png)
"""

GALLERY_STAGE = """\
  gallery:
    cmd: python gallery.py
    deps: [gallery.py]
    params: [train.lr]
    plots:
      - plots/confusion.csv: {template: confusion, x: actual, y: predicted}
      - plots/importance.json: {template: bar, x: feature, y: weight}
      - plots/scatter.yaml: {template: scatter, x: actual, y: predicted}
      - plots/roc.tsv: {x: fpr, y: tpr, x_label: false positive rate, y_label: true positive rate}
      - plots/sample.png
"""

RAW = b"id,value\n1,alpha\n2,beta\n3,gamma\n"


def params(lr: float, epochs: int = 5) -> str:
    return f"train:\n  lr: {lr}\n  epochs: {epochs}\n"


def build(path: Path, *, gallery: bool = False) -> Path:
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
    write(root / "gitml.yaml", PIPELINE + (GALLERY_STAGE if gallery else ""))
    if gallery:
        write(root / "gallery.py", GALLERY)
        (root / "plots").mkdir()
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "train", cwd=root)
    return root


def retrain(root: Path, lr: float, message: str | None = None) -> None:
    write(root / "params.yaml", params(lr))
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", message or f"lr {lr}", cwd=root)
