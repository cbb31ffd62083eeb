"""The pull-request recipe of docs/registry.md (docs/ci/pr-metrics-gate-github.yml),
played for real: its `run:` steps, in order, in a fresh clone of a pull-request branch
(bare git origin, folder remote), fail on a regression against main and pass otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from tests.cli.registry_support import make_project, retrain
from tests.conftest import GITML, git, run_gitml

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "ci" / "pr-metrics-gate-github.yml"


def recipe_steps() -> list[str]:
    """The job's shell steps, minus installing gitml (the suite's own is on PATH) and
    the `gh` comment (it needs GitHub)."""
    (job,) = yaml.safe_load(RECIPE.read_text())["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    return [r for r in runs if not r.startswith(("pip install", "gh "))]


def origin_with_branches(tmp_path: Path) -> Path:
    dev = make_project(tmp_path / "dev")
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=dev)
    git("commit", "-q", "-am", "remote", cwd=dev)
    run_gitml("push", cwd=dev)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=dev)
    for branch, auc, loss in (("worse", 0.75, 0.3), ("better", 0.85, 0.2)):
        git("checkout", "-q", "-b", branch, "main", cwd=dev)
        run_gitml("checkout", "--force", cwd=dev)
        retrain(dev, auc, loss)
        run_gitml("push", cwd=dev)
        git("push", "-q", str(origin), branch, cwd=dev)
    return origin


def run_recipe(origin: Path, branch: str, work: Path) -> tuple[int, str]:
    clone = work / branch
    git("clone", "-q", "--branch", branch, str(origin), str(clone), cwd=work)
    env = {**os.environ, "CI": "true", "PATH": f"{Path(str(GITML)).parent}:{os.environ['PATH']}"}
    for step in recipe_steps():
        proc = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step], cwd=clone, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode != 0:
            return proc.returncode, proc.stderr + (clone / "gate.md").read_text()
    return 0, (clone / "gate.md").read_text()


def test_pull_request_recipe_gates_against_main(tmp_path: Path) -> None:
    assert len(recipe_steps()) == 3
    origin = origin_with_branches(tmp_path)
    work = tmp_path / "ci"
    work.mkdir()
    code, output = run_recipe(origin, "worse", work)
    assert code == 1
    assert "gate failed: change(auc) < -0.01: metrics.json:auc old 0.8, new 0.75" in output
    assert "| :x: **fail** | `change(auc) < -0.01` |" in output
    code, output = run_recipe(origin, "better", work)
    assert code == 0, output
    assert "| :white_check_mark: pass | `change(auc) < -0.01` | 0.8 | 0.85 |" in output
