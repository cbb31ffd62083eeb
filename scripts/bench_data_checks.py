#!/usr/bin/env python3
"""Benchmark: `gitml drift` / `gitml validate` against Evidently's DataDriftPreset.

Runs in gitml's virtual environment (it needs numpy, which the test extra brings with
scipy). Evidently goes into its own virtual environment (built once, then reused). Every
command runs as its own subprocess; wall time by time.perf_counter, peak RSS of the child
from os.wait4. One run each, on the same seeded data:

1. drift of 1M rows x 20 columns (15 numeric, 5 categorical) between two versions:
   gitml without a stored reference profile, gitml with it, Evidently (pandas reads the
   same Parquet files, then Report([DataDriftPreset()]).run).
2. validate + drift of a large dataset (default 20M rows x 10 columns) for gitml alone.

    .venv/bin/python scripts/bench_data_checks.py                 # both parts
    .venv/bin/python scripts/bench_data_checks.py --large-rows 5000000 --skip-evidently
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVIDENTLY_SCRIPT = r"""
import sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1])
cur = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
result = snapshot.dict()
print(str(result)[:200])
"""

LARGE_SCHEMA = """\
gitml-schema: 1
rows: {min: 1}
columns:
  id: {type: int64, nullable: false, unique: true}
  num0: {type: float64, min: -100, max: 100}
  cat0: {type: string, allowed: [alpha, beta, gamma, delta, epsilon, zeta]}
"""


def run(argv: list[str], cwd: Path, log: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds (user + system), peak RSS MiB, exit code) of one
    subprocess. CPU time is what to compare on a shared machine; wall time includes
    waiting for a core. The peak RSS is at least this process's own (see
    write_versions_apart), printed under the table."""
    with log.open("ab") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def write_versions(folder: Path, rows: int, numeric: int, categorical: int, seed: int) -> None:
    """reference.parquet and current.parquet: the current one drifts in a third of the
    numeric columns (shifted, wider) and in one categorical column (a new category)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    g = np.random.default_rng(seed)
    cats = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
    for name, drifted in (("reference", False), ("current", True)):
        schema = None
        writer = None
        chunk = 1_000_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            cols: dict[str, object] = {"id": np.arange(start, start + n, dtype=np.int64)}
            for i in range(numeric - 1):
                shift = 0.5 if drifted and i % 3 == 0 else 0.0
                cols[f"num{i}"] = g.normal(
                    i + shift, 1.0 + (0.3 if drifted and i % 3 == 0 else 0), n
                )
            for j in range(categorical):
                p = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.0])
                if drifted and j == 0:
                    p = np.array([0.2, 0.2, 0.2, 0.15, 0.1, 0.15])
                cols[f"cat{j}"] = cats[g.choice(6, n, p=p)]
            table = pa.table(cols)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(folder / f"{name}.parquet", schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()


def write_versions_apart(
    folder: Path, rows: int, numeric: int, categorical: int, seed: int
) -> None:
    """write_versions in a child process. Linux counts the RSS a child had before exec
    (a copy of this process) in its peak RSS: this process must stay small, so numpy and
    the generated columns never live here."""
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from bench_data_checks import write_versions; "
        "write_versions(Path(sys.argv[2]), *map(int, sys.argv[3:]))"
    )
    here = str(Path(__file__).resolve().parent)
    argv = [str(folder), str(rows), str(numeric), str(categorical), str(seed)]
    subprocess.run([sys.executable, "-c", code, here, *argv], check=True)


def evidently_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "evidently>=0.7,<0.8",
                "pandas<3",
                "pyarrow",
            ],
            check=True,
        )
    return python


def gitml_repo(folder: Path, gitml: str, log: Path) -> None:
    for argv in (["git", "init", "-q"], [gitml, "init", "-q"]):
        subprocess.run(argv, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    who = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env = {**os.environ, **who, "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    shutil.copy(folder / "reference.parquet", folder / "live.parquet")
    subprocess.run([gitml, "add", "-q", "live.parquet"], cwd=folder, check=True)
    # Not -A: the reference and current Parquet files beside it are not for git.
    subprocess.run(
        ["git", "add", ".gitignore", ".gitml", "live.parquet.gitml"], cwd=folder, check=True
    )
    subprocess.run(["git", "commit", "-qm", "reference"], cwd=folder, check=True, env=env)
    os.unlink(folder / "live.parquet")
    shutil.copy(folder / "current.parquet", folder / "live.parquet")


def drift_part(
    args: argparse.Namespace, work: Path, log: Path
) -> list[tuple[str, float, float, int, int]]:
    folder = work / "drift"
    folder.mkdir(parents=True)
    write_versions_apart(folder, args.rows, 15, 5, seed=42)
    gitml_repo(folder, args.gitml, log)
    drift = [args.gitml, "drift", "live.parquet", "--rev", "HEAD", "--json"]
    rows = []
    shutil.rmtree(folder / ".gitml" / "cache" / "profiles", ignore_errors=True)
    rows.append(("gitml drift, no stored profile", *run(drift, folder, log)))
    rows.append(("gitml drift, stored reference profile", *run(drift, folder, log)))
    if not args.skip_evidently:
        python = evidently_python(Path(args.evidently_venv))
        script = work / "evidently_drift.py"
        script.write_text(EVIDENTLY_SCRIPT)
        argv = [str(python), str(script), "reference.parquet", "current.parquet"]
        rows.append(("Evidently DataDriftPreset", *run(argv, folder, log)))
    return rows


def large_part(
    args: argparse.Namespace, work: Path, log: Path
) -> list[tuple[str, float, float, int, int]]:
    folder = work / "large"
    folder.mkdir(parents=True)
    write_versions_apart(folder, args.large_rows, 7, 3, seed=7)
    gitml_repo(folder, args.gitml, log)
    schema = folder / "schema.yaml"
    schema.write_text(LARGE_SCHEMA)
    size = (folder / "live.parquet").stat().st_size
    label = f"{args.large_rows // 1_000_000}M rows x 10 cols, {size / 2**30:.2f} GiB Parquet"
    validate = [args.gitml, "validate", "live.parquet", "--schema", str(schema), "--json"]
    drift = [args.gitml, "drift", "live.parquet", "--rev", "HEAD", "--json"]
    return [
        (f"gitml validate ({label}, unique id)", *run(validate, folder, log)),
        (f"gitml drift ({label}, no stored profile)", *run(drift, folder, log)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gitml", default=str(Path(sys.executable).parent / "gitml"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--large-rows", type=int, default=20_000_000)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--evidently-venv", default="/tmp/gitml-bench-evidently")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="gitml-bench-data-"))
    log = work / "bench.log"
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    rows = drift_part(args, work, log)
    if not args.skip_large:
        rows += large_part(args, work, log)
    load_after = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"(peak RSS of the benchmark process itself, a floor for every row: {own} MiB)")
    print("| run | wall s | CPU s | peak RSS MiB | exit |\n|---|---|---|---|---|")
    for name, wall, cpu, rss, code in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss} | {code} |")
    peer = [r for r in rows if r[0].startswith("Evidently")]
    if peer:
        _, p_wall, p_cpu, p_rss, _ = peer[0]
        print("\nRatios to Evidently (lower is better): wall, CPU, peak RSS")
        for name, wall, cpu, rss, _ in rows[:2]:
            print(f"- {name}: {wall / p_wall:.3f}, {cpu / p_cpu:.3f}, {rss / p_rss:.3f}")
    print(f"(log: {log})")
    if args.work is None:
        shutil.rmtree(work / "drift", ignore_errors=True)
        shutil.rmtree(work / "large", ignore_errors=True)


if __name__ == "__main__":
    main()
