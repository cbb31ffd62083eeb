"""Experiments benchmark (issue 12), run as `python scripts/bench.py exp [...]`.

Stdlib only. Three measurements, each the median of --reps timed runs:

1. `exp show --json` over N experiments of a small pipeline (one stage, one param, a
   cached model and metrics file), gitml vs DVC. The first --real experiments of each
   tool are made by `exp run`; gitml's further ones up to 1,000 are copies of those
   commits (same tree, the record renamed) made with `git commit-tree`, since running
   1,000 pipelines would take longer than the rest of the benchmark.
2. `exp run --temp` of a stage that does nothing, against `repro` of it, in a workspace
   holding a --big-size tracked file (gitml; DVC too with --dvc).
3. A 2x4 grid (`-S prep_n=1,2 -S lr=a,b,c,d`) queued and run with `--run-all -j 2`;
   `prep` needs only prep_n, so it should run twice (once per value), never eight times.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

TRAIN = """\
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))
log = os.environ.get("EXP_LOG")
if log:
    open(log, "a").write("train\\n")
open("model.bin", "w").write(f"model {p['lr']}\\n")
json.dump({"acc": round(1 - abs(p["lr"] - 0.1), 4), "loss": p["lr"] * 2}, open("metrics.json", "w"))
"""

PREP = """\
import os, yaml
p = yaml.safe_load(open("params.yaml"))
log = os.environ.get("EXP_LOG")
if log:
    open(log, "a").write("prep\\n")
open("prep.txt", "w").write(open("data.txt").read() * p["prep_n"])
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        raise SystemExit(f"error: {shlex.join(argv)} in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    sh(argv, cwd, env)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def new_repo(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    sh(["git", "init", "-q", "-b", "main"], path)
    sh(["git", "config", "user.email", "bench@example.com"], path)
    sh(["git", "config", "user.name", "bench"], path)
    sh(["git", "config", "commit.gpgsign", "false"], path)
    return path


class Tool:
    def __init__(self, name: str, exe: str) -> None:
        self.name = name
        self.exe = exe

    def __call__(self, *args: str) -> list[str]:
        return [self.exe, *args]

    def init(self, repo: Path) -> None:
        sh(self("init", "-q") if self.name == "dvc" else self("init"), repo)
        if self.name == "dvc":
            sh(self("config", "core.analytics", "false"), repo)
            sh(self("config", "core.autostage", "false"), repo)

    def stage_add(self, repo: Path, *args: str) -> None:
        argv = self("stage", "add", *args)
        sh(argv, repo)


def small_pipeline(tool: Tool, repo: Path) -> None:
    new_repo(repo)
    tool.init(repo)
    (repo / "params.yaml").write_text("lr: 0.01\n")
    (repo / "train.py").write_text(TRAIN)
    py = sys.executable
    tool.stage_add(repo, "-n", "train", "-p", "lr", "-d", "train.py", "-o", "model.bin",
                   "-m", "metrics.json", f"{py} train.py")  # fmt: skip
    sh(tool("repro"), repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-q", "-m", "baseline"], repo)


def bench_show(
    tool: Tool, workdir: Path, counts: list[int], real: int, reps: int, reuse: bool = False
) -> dict[int, float]:
    repo = workdir / f"show-{tool.name}"
    marker = repo / ".git" / "gitml-bench-made"  # experiments in the repo: "real made"
    if reuse and marker.is_file() and int(marker.read_text().split()[0]) == real:
        made = int(marker.read_text().split()[1])
        if made > real:  # back to the real ones; the copies are made again below
            drop = [f"e{i}" for i in range(real, made)]
            refs = sh(["git", "for-each-ref", "--format=%(refname)", "refs/gitml/exps"], repo)
            gone = "".join(f"delete {r}\n" for r in refs.split() if r.rsplit("/", 1)[1] in drop)
            subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input=gone, text=True,
                           check=True)  # fmt: skip
        log(f"[{tool.name}] reusing the {real} experiments in {repo} (--reuse)")
    else:
        small_pipeline(tool, repo)
        log(f"[{tool.name}] making {real} experiments with exp run ...")
        t0 = time.perf_counter()
        for i in range(real):
            sh(tool("exp", "run", "-S", f"lr={0.001 * (i + 1):.3f}", "-n", f"e{i}"), repo)
        log(f"[{tool.name}]   {time.perf_counter() - t0:.0f} s")
        sh(["git", "checkout", "-q", "--", "."], repo)
    results: dict[int, float] = {}
    made = real
    marker.write_text(f"{real} {made}\n")
    for count in counts:
        if count > made:
            if tool.name != "gitml":
                continue
            copy_gitml_experiments(repo, made, count)
            made = count
            marker.write_text(f"{real} {made}\n")
        if count < made and count != real:
            continue
        doc = json.loads(sh(tool("exp", "show", "--json"), repo))
        shown = len(doc["experiments"]) if tool.name == "gitml" else dvc_count(doc)
        if shown != count:
            raise SystemExit(f"error: {tool.name} exp show lists {shown} experiments, not {count}")
        times = [timed(tool("exp", "show", "--json"), repo) for _ in range(reps)]
        results[count] = median(times)
        log(f"[{tool.name}] exp show --json over {count}: {results[count]:.3f} s {times}")
    return results


def dvc_count(doc: list[dict[str, object]]) -> int:
    total = 0
    for row in doc:
        for exp in row.get("experiments") or []:  # type: ignore[attr-defined]
            total += len(exp.get("revs") or [])
    return total


def copy_gitml_experiments(repo: Path, start: int, stop: int) -> None:
    """More experiment commits like the real ones: same tree and parent, record renamed."""
    lines = sh(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/gitml/exps"],
               repo).split("\n")  # fmt: skip
    sources = [line.split() for line in lines if line]
    updates = []
    for i in range(start, stop):
        ref, commit = sources[i % len(sources)]
        message = sh(["git", "log", "-1", "--format=%B", commit], repo)
        name = f"e{i}"
        old = ref.rsplit("/", 1)[1]
        message = message.replace(f"gitml experiment {old}", f"gitml experiment {name}").replace(
            f'"name":"{old}"', f'"name":"{name}"'
        )
        tree_parent = sh(["git", "log", "-1", "--format=%T %P", commit], repo).split()
        new = subprocess.run(
            ["git", "commit-tree", tree_parent[0], "-p", tree_parent[1]],
            cwd=repo, input=message, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        updates.append(f"create {ref.rsplit('/', 1)[0]}/{name} {new}\n")
    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input="".join(updates),
                   text=True, check=True)  # fmt: skip


def make_big(path: Path, size: int) -> None:
    rng_seed = b"gitml-bench-exp"
    import hashlib

    block = b"".join(hashlib.sha256(rng_seed + bytes([i])).digest() for i in range(256)) * 128
    with open(path, "wb") as f:
        written = 0
        while written < size:
            chunk = block[: min(len(block), size - written)]
            f.write(chunk)
            written += len(chunk)
            block = block[1:] + block[:1]


def bench_temp(tool: Tool, workdir: Path, size: int, reps: int) -> tuple[float, float]:
    repo = new_repo(workdir / f"temp-{tool.name}")
    tool.init(repo)
    make_big(repo / "big.bin", size)
    sh(tool("add", "big.bin"), repo)
    (repo / "params.yaml").write_text("n: 0\n")
    tool.stage_add(repo, "-n", "noop", "-p", "n", "true")
    sh(tool("repro"), repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-q", "-m", "baseline"], repo)
    repro_times, temp_times = [], []
    for i in range(reps):
        (repo / "params.yaml").write_text(f"n: {i + 1}\n")
        repro_times.append(timed(tool("repro"), repo))
        sh(["git", "checkout", "-q", "--", "."], repo)
        sh(tool("repro"), repo)
        temp_times.append(timed(tool("exp", "run", "--temp", "-S", f"n={100 + i}"), repo))
    log(f"[{tool.name}] repro {repro_times}, exp run --temp {temp_times}")
    return median(repro_times), median(temp_times)


def bench_grid(tool: Tool, workdir: Path) -> tuple[float, int, int]:
    repo = new_repo(workdir / f"grid-{tool.name}")
    tool.init(repo)
    (repo / "params.yaml").write_text("prep_n: 1\nlr: 0.01\n")
    (repo / "data.txt").write_text("abc\n")
    (repo / "prep.py").write_text(PREP)
    (repo / "train.py").write_text(TRAIN)
    py = sys.executable
    tool.stage_add(repo, "-n", "prep", "-p", "prep_n", "-d", "data.txt", "-d", "prep.py",
                   "-o", "prep.txt", f"{py} prep.py")  # fmt: skip
    tool.stage_add(repo, "-n", "train", "-p", "lr", "-d", "prep.txt", "-d", "train.py",
                   "-o", "model.bin", "-m", "metrics.json", f"{py} train.py")  # fmt: skip
    runs = workdir / f"grid-{tool.name}.log"
    runs.unlink(missing_ok=True)
    env = {"EXP_LOG": str(runs)}
    sh(tool("repro"), repo, env)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-q", "-m", "baseline"], repo)
    runs.unlink()
    grid = ["-S", "prep_n=2,3", "-S", "lr=0.1,0.2,0.3,0.4"]
    sh(tool("exp", "run", "--queue", *grid), repo, env)
    if tool.name == "gitml":
        elapsed = timed(tool("exp", "run", "--run-all", "-j", "2"), repo, env)
    else:
        elapsed = timed(tool("queue", "start", "-j", "2"), repo, env)
        start = time.perf_counter()
        while "Running" in sh(tool("queue", "status"), repo) or "Queued" in sh(
            tool("queue", "status"), repo
        ):
            time.sleep(1)
        elapsed += time.perf_counter() - start
        sh(tool("queue", "stop"), repo)
    done = runs.read_text().split() if runs.exists() else []
    log(f"[{tool.name}] grid 2x4 -j 2: {elapsed:.1f} s, prep ran {done.count('prep')}x, "
        f"train {done.count('train')}x")  # fmt: skip
    return elapsed, done.count("prep"), done.count("train")


def row(label: str, g: float | None, d: float | None) -> str:
    def cell(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    ratio = f"{g / d:.3f}" if g is not None and d else "-"
    return f"| {label} | {cell(g)} | {cell(d)} | {ratio} |"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.py exp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--workdir", type=Path, default=REPO_ROOT / ".bench" / "exp")
    p.add_argument("--gitml", default=str(Path(sys.executable).parent / "gitml"))
    p.add_argument("--dvc", action="store_true", help="also DVC (its venv from bench.py)")
    p.add_argument("--dvc-bin", help="an existing dvc executable")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--counts", default="100,1000", help="gitml experiment counts for exp show")
    p.add_argument("--real", type=int, default=100, help="experiments made by exp run")
    p.add_argument("--big-size", default="1G")
    p.add_argument("--only", default="show,temp,grid")
    p.add_argument("--dvc-grid", action="store_true", help="also DVC's queue (celery workers)")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="exp show: reuse the repos (and their --real experiments) a previous run left "
        "in --workdir instead of running exp run --real times again",
    )
    args = p.parse_args(argv)
    import bench

    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    bench.compile_bytecode(args.gitml)  # as pip install would; see bench.compile_bytecode
    tools = [Tool("gitml", args.gitml)]
    if args.dvc or args.dvc_bin:
        dvc = args.dvc_bin or bench.ensure_dvc_venv(
            workdir.parent, "dvc", workdir / "dvc-install.log"
        )
        tools.append(Tool("dvc", dvc))
    counts = [int(c) for c in args.counts.split(",")]
    only = args.only.split(",")
    size = bench.parse_size(args.big_size)
    rows: list[str] = []
    if "show" in only:
        shown = {
            t.name: bench_show(t, workdir, counts, args.real, args.reps, args.reuse) for t in tools
        }
        for count in counts:
            rows.append(row(f"exp show --json, {count} experiments", shown["gitml"].get(count),
                            shown.get("dvc", {}).get(count)))  # fmt: skip
    if "temp" in only:
        temp = {t.name: bench_temp(t, workdir, size, args.reps) for t in tools}
        for label, index in (("repro", 0), ("exp run --temp", 1)):
            g, d = temp["gitml"][index], temp.get("dvc", (None, None))[index]
            rows.append(row(f"{label} of a no-op stage, {args.big_size} tracked file", g, d))
        overhead = {name: pair[1] - pair[0] for name, pair in temp.items()}
        rows.append(row("--temp overhead over repro", overhead["gitml"], overhead.get("dvc")))
    if "grid" in only:
        grid_tools = tools if args.dvc_grid else tools[:1]
        for t in grid_tools:
            elapsed, prep, train = bench_grid(t, workdir)
            label = f"2x4 grid, -j 2 ({t.name}: prep ran {prep}x, train {train}x)"
            rows.append(row(label, elapsed if t.name == "gitml" else None,
                            elapsed if t.name == "dvc" else None))  # fmt: skip
    print(f"command: {shlex.join([sys.executable, 'scripts/bench.py', 'exp', *argv])}")
    print(f"load average at the end: {os.getloadavg()}")
    print("\n| measurement | gitml s | dvc s | gitml/dvc |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0
