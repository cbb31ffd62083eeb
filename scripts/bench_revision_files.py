#!/usr/bin/env python3
"""Benchmark: reading cached metrics at many revisions (gitml.pipeline.revision_files).

Builds a repository whose stage writes a cached metrics file (`-m metrics.json`), with
N commits each changing a param and re-running the stage (`gitml repro`), pushes every
revision's outputs to a folder remote, then times (median of --reps):

* `gitml metrics diff HEAD~1 HEAD` with the objects in the cache;
* `gitml metrics show -R HEAD~0 ... -R HEAD~(N-1)` with the cache warm, and with the cache
  emptied before each run (every object comes from the folder remote);
* `RevisionFiles.load` of metrics.json at N commit ids, in one process (warm cache).

    .venv/bin/python scripts/bench_revision_files.py --commits 50 --reps 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TRAIN = """\
import json, yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
json.dump({"acc": 1 - lr, "loss": lr * 10}, open("metrics.json", "w"))
"""


def gitml_bin() -> str:
    found = shutil.which("gitml", path=str(Path(sys.executable).parent)) or shutil.which("gitml")
    if found is None:
        sys.exit("the gitml command is not installed next to this python")
    return found


def run(*args: str, cwd: Path) -> str:
    return subprocess.run(
        args, cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, "CI": "1"}
    ).stdout


def build(root: Path, commits: int) -> list[str]:
    gitml = gitml_bin()
    run("git", "init", "-q", "-b", "main", cwd=root)
    run("git", "config", "user.email", "bench@example.com", cwd=root)
    run("git", "config", "user.name", "bench", cwd=root)
    run(gitml, "init", cwd=root)
    run(gitml, "remote", "add", "-d", "origin", str(root.parent / "store"), cwd=root)
    (root / "train.py").write_text(TRAIN)
    (root / "params.yaml").write_text("lr: 0.0\n")
    run(gitml, "stage", "add", "-n", "train", "-d", "train.py", "-p", "lr",
        "-m", "metrics.json", f"{sys.executable} train.py", cwd=root)  # fmt: skip
    for i in range(commits):
        (root / "params.yaml").write_text(f"lr: {i / 1000}\n")
        run(gitml, "repro", cwd=root)
        run("git", "add", "-A", cwd=root)
        run("git", "commit", "-qm", f"lr {i}", cwd=root)
    run(gitml, "push", *[a for i in range(commits) for a in ("--rev", f"HEAD~{i}")], cwd=root)
    return run("git", "rev-list", "HEAD", cwd=root).split()


def timed(fn: Callable[[], object], reps: int, before: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(reps):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    gitml = gitml_bin()
    with tempfile.TemporaryDirectory(prefix="gitml-bench-revs-") as temp:
        root = Path(temp) / "repo"
        root.mkdir()
        start = time.perf_counter()
        shas = build(root, args.commits)
        print(f"setup: {args.commits} commits in {time.perf_counter() - start:.1f} s")
        revs = [a for i in range(args.commits) for a in ("-R", f"HEAD~{i}")]

        def empty_cache() -> None:
            shutil.rmtree(root / ".gitml" / "cache", ignore_errors=True)

        from gitml.pipeline.revision_files import RevisionFiles

        def in_process() -> None:
            with RevisionFiles(root) as files:
                for sha in shas:
                    assert files.load(sha, "metrics.json") is not None

        rows = [
            ("metrics diff HEAD~1 HEAD (cache)",
             timed(lambda: run(gitml, "metrics", "diff", "HEAD~1", "HEAD", cwd=root), args.reps)),
            (f"metrics show, {args.commits} revisions (cache)",
             timed(lambda: run(gitml, "metrics", "show", *revs, "--json", cwd=root), args.reps)),
            (f"metrics show, {args.commits} revisions (folder remote, empty cache)",
             timed(lambda: run(gitml, "metrics", "show", *revs, "--json", cwd=root), args.reps,
                   before=empty_cache)),
            (f"RevisionFiles.load at {args.commits} commit ids, in process (cache)",
             timed(in_process, args.reps)),
        ]  # fmt: skip
        print(f"\n| operation (median of {args.reps}) | seconds |\n|---|---|")
        for name, seconds in rows:
            print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
