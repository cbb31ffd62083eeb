"""`model show --json` side by side with GTO's `gto show --json` on one repository holding
1,000 and 10,000 registry tags (GTO's users report 6-12 s for 1,500 tags, iterative/gto#156).

The repository is written with `git fast-import`: COMMITS commits, each with a model
pointer file, a metrics file committed to git and a gitml.yaml declaring both; then
annotated tags in GTO's format spread over MODELS models: versions `NAME@vX.Y.Z`
(gitml's message, with the path trailer) and stage assignments `NAME#STAGE#N`.

    .venv/bin/python scripts/bench_registry.py --gto .gitml-test-venvs/gto/bin/gto
    .venv/bin/python scripts/bench_registry.py --sizes 1000 --reps 1 --skip-gto
    .venv/bin/python scripts/bench_registry.py --pack-refs --skip-gto

fast-import leaves every tag a loose ref (one file each), the slow case for `git
for-each-ref`; `--pack-refs` runs `git pack-refs --all` first, as a clone or `git gc` leaves
a repository.

Prints a Markdown table of median wall times (each command a fresh process) and the
load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMITS = 200
MODELS = 50
STAGES = ("dev", "staging", "prod")
PIPELINE = "metrics:\n  - metrics.json\nartifacts:\n{}".format(
    "".join(f"  model{m}:\n    path: model.bin\n" for m in range(MODELS))
)


def data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def build(root: Path, tags: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / ".gitml").mkdir()
    stream = bytearray()
    when = 1_700_000_000
    for c in range(COMMITS):
        oid = f"{c:064x}"
        pointer = f"gitml-pointer: 1\nkind: file\noid: blake3:{oid}\nsize: {1000 + c}\n"
        metrics = json.dumps({"auc": round(0.5 + c / (2 * COMMITS), 4), "loss": 1 - c / COMMITS})
        stream += b"commit refs/heads/main\nmark :%d\n" % (c + 1)
        stream += f"committer Bench <b@example.com> {when + c} +0000\n".encode()
        stream += data(f"train {c}")
        if c:
            stream += b"from :%d\n" % c
        stream += b"M 644 inline model.bin.gitml\n" + data(pointer)
        stream += b"M 644 inline metrics.json\n" + data(metrics)
        stream += b"M 644 inline gitml.yaml\n" + data(PIPELINE)
        stream += b"M 644 inline .gitml/config\n" + data("")
    per_model = tags // MODELS
    versions = per_model * 2 // 3
    for m in range(MODELS):
        counter = 0
        for v in range(per_model):
            commit = (m * 7 + v) % COMMITS + 1
            when += 1
            if v < versions:
                name = f"model{m}@v0.{v // 100}.{v % 100}"
                message = f"Registering artifact model{m} version v0.{v // 100}.{v % 100}\n\n"
                message += "gitml-path: model.bin\n"
            else:
                counter += 1
                stage = STAGES[v % len(STAGES)]
                back = per_model - v  # assign an already registered version
                target = (m * 7 + versions - back % versions) % COMMITS + 1
                commit = target
                name = f"model{m}#{stage}#{counter}"
                message = f"Assigning stage {stage} to artifact model{m}\n"
            stream += f"tag {name}\nfrom :{commit}\n".encode()
            stream += f"tagger Bench <b@example.com> {when} +0000\n".encode()
            stream += data(message)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=bytes(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def timed(cmd: list[str], cwd: Path, reps: int) -> tuple[float, float, str]:
    """Median wall time and median CPU time (user + system, the command and its children)
    of `reps` runs after one untimed warm-up run. On a shared machine CPU time is what
    to compare; wall time includes waiting for a core. Bytecode may be written (as after
    any `pip install`): an environment that sets PYTHONDONTWRITEBYTECODE would otherwise
    recompile an editable install every run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times, cpus, out = [], [], ""
    for rep in range(reps + 1):
        with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=stderr, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            stdout.seek(0)
            stderr.seek(0)
            out, err = stdout.read().decode(), stderr.read().decode()
        if rep:
            times.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return statistics.median(times), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gitml", default=str(Path(sys.executable).parent / "gitml"))
    parser.add_argument("--gto", default=".gitml-test-venvs/gto/bin/gto")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip-gto", action="store_true")
    parser.add_argument("--pack-refs", action="store_true", help="pack the tags' refs first")
    args = parser.parse_args()
    gto = str(Path(args.gto).resolve())
    rows = []
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    for size in (int(s) for s in args.sizes.split(",")):
        root = Path(tempfile.mkdtemp(prefix="gitml-bench-registry-"))
        try:
            build(root / "repo", size)
            repo = root / "repo"
            if args.pack_refs:
                subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True)
            n_tags = len(subprocess.run(["git", "tag"], cwd=repo, capture_output=True,
                                        text=True, check=True).stdout.split())  # fmt: skip
            ours, ours_cpu, out = timed([args.gitml, "model", "show", "--json"], repo, args.reps)
            doc = json.loads(out)
            versions = sum(len(m["versions"]) for m in doc["models"])
            theirs = theirs_cpu = None
            if not args.skip_gto:
                theirs, theirs_cpu, gto_out = timed([gto, "show", "--json"], repo, args.reps)
                assert set(json.loads(gto_out)) == {m["name"] for m in doc["models"]}
            rows.append((n_tags, versions, ours, ours_cpu, theirs, theirs_cpu))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    load_after = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}")
    print("refs:", "packed (git pack-refs --all)" if args.pack_refs else "loose (one file per tag)")
    print(
        "| tags | versions | gitml model show --json: wall s (CPU s) "
        "| gto show --json: wall s (CPU s) | ratio wall (CPU) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n_tags, versions, ours, ours_cpu, theirs, theirs_cpu in rows:
        gto_cell = f"{theirs:.2f} ({theirs_cpu:.2f})" if theirs and theirs_cpu else "-"
        ratio = (
            f"{ours / theirs:.4f} ({ours_cpu / theirs_cpu:.4f})" if theirs and theirs_cpu else "-"
        )
        print(f"| {n_tags:,} | {versions:,} | {ours:.3f} ({ours_cpu:.3f}) | {gto_cell} | {ratio} |")


if __name__ == "__main__":
    main()
