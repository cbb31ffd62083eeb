#!/usr/bin/env python3
"""Time no-op `gitml status` and `gitml repro --dry` on a pipeline split over many files.

Builds a scratch git repository with STAGES stages spread over FILES gitml.yaml files (the
root one plus FILES-1 subfolders), runs `gitml repro` once with the first `--gitml`, then
reports the median and minimum wall time of each command over REPS runs of every `--gitml`
executable given (e.g. an install of main and one of a branch), interleaved. Stdlib only.

    python3 scripts/bench_pipelines.py --gitml .venv/bin/gitml --stages 200 --files 20
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
from pathlib import Path


def build(repo: Path, stages: int, files: int, ignored_files: int, single_root: bool) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / ".gitignore").write_text("/scratch\n")
    scratch = repo / "scratch"
    scratch.mkdir()
    for i in range(ignored_files):
        (scratch / f"f{i}").write_bytes(b"x")
    per_file: list[list[int]] = [[] for _ in range(files)]
    for i in range(stages):
        per_file[i % files].append(i)
    for index, numbers in enumerate(per_file):
        folder = repo if index == 0 or single_root else repo / f"exp{index}"
        folder.mkdir(exist_ok=True)
        prefix = "" if folder == repo else f"exp{index}/"
        lines = [] if folder == repo and index > 0 else ["stages:"]
        for i in numbers:
            (repo / f"{prefix}in{i}.txt").write_text(f"input {i}\n")
            lines += [
                f"  s{i}:",
                f"    cmd: cp in{i}.txt out{i}.txt",
                f"    deps: [in{i}.txt]",
                f"    outs: [out{i}.txt]",
            ]
        with open(folder / "gitml.yaml", "a") as f:
            f.write("\n".join(lines) + "\n")


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, env={**os.environ, "CI": "1"})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {proc.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gitml", action="append", required=True, help="gitml executable")
    parser.add_argument("--stages", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--ignored-files", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--single-root", action="store_true", help="all stages in the root gitml.yaml"
    )
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print("| gitml | layout | command | median s | min s |")
    print("|---|---|---|---|---|")
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipelines-"))
    try:
        repo = workdir / "repo"
        build(repo, args.stages, args.files, args.ignored_files, args.single_root)
        first = args.gitml[0]
        timed([first, "init", "-q"], repo)
        timed([first, "repro"], repo)
        layout = (
            f"{args.stages} stages in "
            + ("1 file" if args.single_root else f"{args.files} files")
            + f", {args.ignored_files} ignored files"
        )
        for command in (["status"], ["repro", "--dry"]):
            times: dict[str, list[float]] = {exe: [] for exe in args.gitml}
            for exe in args.gitml:
                timed([exe, *command], repo)  # warm-up
            for _ in range(args.reps):  # interleaved, so load changes hit every executable
                for exe in args.gitml:
                    times[exe].append(timed([exe, *command], repo))
            for exe, samples in times.items():
                print(
                    f"| {exe} | {layout} | {' '.join(command)} | "
                    f"{statistics.median(samples):.3f} | {min(samples):.3f} |"
                )
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
