"""YAML as DVC reads it (YAML 1.2, merge keys with overrides) and bounded YAML input."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.conftest import GITML, git, run_gitml, write

STAGE = """\
stages:
  show:
    cmd: echo gpu=${use_gpu} mode=${mode} v=${version} lr=${lr} seed=${exp.seed} > out.txt
    params:
      - lr
      - exp
    outs:
      - out.txt
"""


def test_yaml_1_2_values_and_merge_overrides_reach_the_command(repo: Path) -> None:
    write(
        repo / "params.yaml",
        "use_gpu: no\nmode: on\nversion: 010\nlr: 1e-3\n"
        "base: &d {seed: 1, lr: 0.1}\nexp:\n  <<: *d\n  seed: 43\n",
    )
    write(repo / "gitml.yaml", STAGE)
    run_gitml("repro", cwd=repo)
    assert (repo / "out.txt").read_text().strip() == "gpu=no mode=on v=10 lr=0.001 seed=43"
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "run", cwd=repo)
    text = (repo / "params.yaml").read_text()
    write(repo / "params.yaml", text.replace("lr: 1e-3", "lr: 2e-3"))
    diff = json.loads(run_gitml("params", "diff", "--json", cwd=repo).stdout)
    assert diff == {"params.yaml": {"lr": {"old": 0.001, "new": 0.002, "diff": 0.001}}}


def _alias_bomb_pipeline() -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    anchors = "\n".join("      " + line for line in lines)
    return f"vars:\n  - bomb:\n{anchors}\nstages:\n  s:\n    cmd: *a8\n"


def test_alias_bomb_in_gitml_yaml_is_refused_quickly(repo: Path) -> None:
    write(repo / "gitml.yaml", _alias_bomb_pipeline())
    write(repo / "data.txt", "data")
    for args in (("status",), ("dag",), ("repro", "--dry"), ("add", "data.txt")):
        started = time.monotonic()
        proc = subprocess.run(
            [str(GITML), *args], cwd=repo, capture_output=True, text=True, timeout=60
        )
        assert time.monotonic() - started < 30
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert proc.stderr.strip().splitlines() == [
            "gitml: error: gitml.yaml: YAML aliases expand to more than 1,000,000 values"
        ], args
