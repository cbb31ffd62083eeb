#!/usr/bin/env python3
"""Time `gitml lineage --find` on a long history and `gitml plots show` of many plots at
many revisions (docs/design.md, "Lineage, plots and reports", has the figures).

    .venv/bin/python scripts/bench_lineage.py                # both, 5,000 commits, 5 reps
    .venv/bin/python scripts/bench_lineage.py --only find --commits 2000

Scratch repositories live under .bench/lineage/ and are reused between runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench" / "lineage"
GITML = str(Path(sys.executable).parent / "gitml")

STEP = """\
import os, sys, yaml
seed = yaml.safe_load(open("params.yaml"))["seed"]
os.makedirs("plots", exist_ok=True)
for p in range({plots}):
    with open(f"plots/p{{p}}.csv", "w") as f:
        f.write("step,value\\n")
        for i in range({rows}):
            f.write(f"{{i}},{{(i * (p + 1) + seed) % 97 / 97:.4f}}\\n")
"""


def run(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def timed(args: list[str], cwd: Path, reps: int) -> tuple[float, float, float, int]:
    """(median wall s, min wall s, median CPU s of the command and its git children) over
    `reps` runs, and the last exit code. CPU time matters on a shared, loaded machine."""
    walls, cpus = [], []
    code = 0
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        code = subprocess.run(args, cwd=cwd, capture_output=True).returncode
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), min(walls), statistics.median(cpus), code


def row(command: str, repository: str, result: tuple[float, float, float, int]) -> None:
    median, best, cpu, code = result
    print(f"| {command} | {repository} | {median:.2f} | {best:.2f} | {cpu:.2f} | exit {code} |")


def bench_find(commits: int, reps: int) -> None:
    repo = BENCH / f"history-{commits}"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        run([sys.executable, str(ROOT / "scripts" / "make_history.py"), str(repo),
             "--commits", str(commits)], ROOT)  # fmt: skip
    # The bytes of one output as an old commit (60% of the way back) had them.
    old = subprocess.run(
        ["git", "rev-list", "--skip", str(commits * 6 // 10), "-n", "1", "HEAD"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pointer = subprocess.run(
        ["git", "show", f"{old}:d05/out0005.bin.gitml"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    hexdigest = pointer.split("oid: blake3:")[1].split()[0]
    needle = BENCH / "needle.bin"
    shutil.copyfile(repo / ".gitml" / "cache" / "blake3" / hexdigest[:2] / hexdigest[2:], needle)
    total = subprocess.run(
        ["git", "rev-list", "--all", "--count"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    where = f"{total} commits"
    row(
        "`lineage --find FILE`", where, timed([GITML, "lineage", "--find", str(needle)], repo, reps)
    )
    stranger = [GITML, "lineage", "--find", str(ROOT / "README.md")]
    row("`lineage --find` (never tracked)", where, timed(stranger, repo, reps))


def bench_plots(plots: int, revisions: int, rows: int, reps: int) -> None:
    repo = BENCH / f"plots-{plots}x{revisions}x{rows}"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        repo.mkdir(parents=True)
        run(["git", "init", "-q", "-b", "main"], repo)
        run(["git", "config", "user.email", "bench@example.com"], repo)
        run(["git", "config", "user.name", "bench"], repo)
        run([GITML, "init", "-q"], repo)
        (repo / "step.py").write_text(STEP.format(plots=plots, rows=rows))
        outs = "\n".join(f"      - plots/p{p}.csv: {{x: step, y: value}}" for p in range(plots))
        (repo / "gitml.yaml").write_text(
            f"stages:\n  draw:\n    cmd: python step.py\n    deps: [step.py]\n"
            f"    params: [seed]\n    plots:\n{outs}\n"
        )
        for seed in range(revisions):
            (repo / "params.yaml").write_text(f"seed: {seed}\n")
            run([GITML, "repro", "-q"], repo)
            run(["git", "add", "-A"], repo)
            run(["git", "commit", "-qm", f"seed {seed}"], repo)
    revs = [a for i in range(revisions) for a in ("--rev", f"HEAD~{i}")]
    label = f"{plots} plots x {revisions} revisions x {rows} rows"
    row("`plots show --rev ...` (page)", label, timed([GITML, "plots", "show", *revs], repo, reps))
    as_json = [GITML, "plots", "show", *revs, "--json"]
    row("`plots show --rev ... --json`", label, timed(as_json, repo, reps))
    size = (repo / "gitml_plots" / "index.html").stat().st_size
    print(f"\npage size: {size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["find", "plots"])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--plots", type=int, default=10)
    parser.add_argument("--revisions", type=int, default=10)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}\n")
    print("| command | repository | median wall s | min wall s | median CPU s | result |")
    print("|---|---|---:|---:|---:|---|")
    if args.only in (None, "find"):
        bench_find(args.commits, args.reps)
    if args.only in (None, "plots"):
        bench_plots(args.plots, args.revisions, args.rows, args.reps)


if __name__ == "__main__":
    main()
