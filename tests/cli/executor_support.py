"""A small three-stage pipeline for the executor tests, and what to compare after a run."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import git, run_gitml, write

PREP = """\
import os, yaml
n = yaml.safe_load(open("params.yaml"))["prep"]["parts"]
rows = sorted(open(os.path.join("data", f)).read() for f in os.listdir("data"))
os.makedirs("work/prepared", exist_ok=True)
for i in range(n):
    with open(f"work/prepared/part{i}.txt", "w") as out:
        out.write(f"part {i}\\n" + "".join(rows))
print("prepared", n, "parts")
"""

PIPELINE = """\
stages:
  prep:
    cmd: python prep.py
    deps: [data, prep.py]
    params: [prep.parts]
    outs: [work/prepared]
  train:
    cmd: cat prepared/* | sha256sum > ../model.bin && chmod +x ../model.bin
    wdir: work
    deps: [prepared]
    outs: [../model.bin]
  evaluate:
    cmd: wc -c < model.bin > metrics.txt
    deps: [model.bin]
    metrics:
      - metrics.txt:
          cache: false
"""

OUTPUTS = ("work/prepared", "model.bin", "metrics.txt")


def make_pipeline(repo: Path) -> None:
    """Data tracked by gitml, code and params tracked by git, three stages in a chain."""
    for i in range(3):
        write(repo / "data" / f"shard{i}.csv", f"id,value\n{i},{i * i}\n" * (i + 1))
    run_gitml("add", "data", cwd=repo)
    write(repo / "prep.py", PREP)
    write(repo / "params.yaml", "prep:\n  parts: 3\n")
    write(repo / "gitml.yaml", PIPELINE)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "pipeline", cwd=repo)


def output_bytes(repo: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file of every output: its bytes and whether it is executable."""
    found: dict[str, tuple[bytes, bool]] = {}
    for out in OUTPUTS:
        top = repo / out
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            found[path.relative_to(repo).as_posix()] = (
                path.read_bytes(),
                os.access(path, os.X_OK),
            )
    return found


def reset_outputs(repo: Path) -> None:
    """Back to a workspace where nothing ran: no outputs, no lock file."""
    import shutil

    for out in OUTPUTS:
        shutil.rmtree(repo / out, ignore_errors=True)
        (repo / out).unlink(missing_ok=True)
    (repo / "gitml.lock").unlink(missing_ok=True)


def run_markers(repo: Path) -> list[Path]:
    """The run-cache's markers: one per recorded run."""
    base = repo / ".gitml" / "cache" / "runs"
    if not base.exists():
        return []
    return sorted(p for p in base.glob("??/*/*") if p.is_file())  # not runs/claims/


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has finished
        return stat.read().split(") ")[-1][0] != "Z"
