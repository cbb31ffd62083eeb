#!/usr/bin/env python3
"""Benchmark: `gitml repro --executor dask` against local `repro` (issue 16).

Two workloads, each in a fresh git repository with a folder remote:

* fan-out: 8 independent stages of `sleep 2` (each with a 4 KiB tracked input) and a
  fan-in stage that reads their 8 outputs; local `-j 1`, local `-j 2`, and dask `-j 2`
  on a LocalCluster of 2 single-threaded worker processes on loopback.
* overhead: 8 independent stages with an empty command and a 1 MiB tracked input; local
  `-j 1` and dask `-j 1`. Overhead per stage = (dask - local) / 8: fetching the input
  from the remote, the scratch folder, hashing and pushing the output, the driver's
  download and verification, and the task's round trip.

Every run is `repro -f` (all stages run, no run-cache) through the installed `gitml`
command, timed wall-clock; the minimum of --reps runs is reported with the load average
(the machine may be shared). Needs `pip install -e '.[dask]'`.

    python scripts/bench_executors.py [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GITML = str(Path(sys.executable).with_name("gitml"))


def sh(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, name: str, stages: dict[str, str], inputs: dict[str, bytes]) -> Path:
    repo = root / name
    repo.mkdir()
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    sh(GITML, "init", cwd=repo)
    sh(GITML, "remote", "add", "-d", "origin", str(root / f"{name}-store"), cwd=repo)
    for path, data in inputs.items():
        (repo / path).write_bytes(data)
        sh(GITML, "add", path, cwd=repo)
    (repo / "gitml.yaml").write_text("stages:\n" + "".join(stages.values()))
    return repo


def fan_out(root: Path) -> Path:
    stages = {
        f"s{i}": f"  s{i}:\n    cmd: sleep 2 && cp in{i}.txt out{i}.txt\n"
        f"    deps: [in{i}.txt]\n    outs: [out{i}.txt]\n"
        for i in range(8)
    }
    outs = ", ".join(f"out{i}.txt" for i in range(8))
    stages["fan_in"] = (
        f"  fan_in:\n    cmd: cat {' '.join(f'out{i}.txt' for i in range(8))} > all.txt\n"
        f"    deps: [{outs}]\n    outs: [all.txt]\n"
    )
    inputs = {f"in{i}.txt": os.urandom(4096) for i in range(8)}
    return make_repo(root, "fanout", stages, inputs)


def overhead(root: Path) -> Path:
    stages = {
        f"e{i}": f"  e{i}:\n    cmd: echo {i} > out{i}.txt\n    deps: [big{i}.bin]\n"
        f"    outs: [out{i}.txt]\n"
        for i in range(8)
    }
    inputs = {f"big{i}.bin": os.urandom(1 << 20) for i in range(8)}
    return make_repo(root, "overhead", stages, inputs)


def timed(repo: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([GITML, "repro", "-f", *args], cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - started


def best(reps: int, repo: Path, *args: str) -> float:
    return min(timed(repo, *args) for _ in range(reps))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    reps = parser.parse_args().reps

    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0",
    )  # fmt: skip
    address = cluster.scheduler_address
    root = Path(tempfile.mkdtemp(prefix="gitml-bench-exec-"))
    load_before = os.getloadavg()[0]
    try:
        fan = fan_out(root)
        rows = [
            ("8 x 2 s + fan-in, local -j 1", best(reps, fan, "-j", "1")),
            ("8 x 2 s + fan-in, local -j 2", best(reps, fan, "-j", "2")),
            (
                "8 x 2 s + fan-in, dask -j 2 (2 workers)",
                best(reps, fan, "-j", "2", "--executor", "dask", "--address", address),
            ),
        ]
        empty = overhead(root)
        local_empty = best(reps, empty, "-j", "1")
        dask_empty = best(reps, empty, "-j", "1", "--executor", "dask", "--address", address)
        rows += [
            ("8 x empty cmd + 1 MiB dep, local -j 1", local_empty),
            ("8 x empty cmd + 1 MiB dep, dask -j 1", dask_empty),
        ]
    finally:
        cluster.close()
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()[0]
    print(f"| run (best of {reps}, `repro -f`) | wall s |")
    print("|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} |")
    ratio = rows[2][1] / rows[1][1]
    per_stage = (dask_empty - local_empty) / 8
    print(f"\ndask -j 2 / local -j 2: {ratio:.2f}x (target <= 1.3x)")
    print(f"dask overhead per stage: {per_stage:.3f} s (target < 0.5 s)")
    print(f"load average (1 min) before/after: {load_before:.1f} / {load_after:.1f}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
