"""`gitml metrics diff --fail-if` through the installed command, on a real pipeline whose
metrics file is a cached stage out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.registry_support import loads, make_project, retrain
from tests.conftest import run_gitml


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p")
    retrain(root, 0.7, 0.4, commit=False)  # workspace: auc fell by 0.1, loss rose
    return root


def test_failing_gate_names_expression_with_values(project: Path) -> None:
    result = run_gitml(
        "metrics", "diff", "--fail-if", "change(auc) < -0.05", "--fail-if", "loss > 0.5",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    failing = [line for line in result.stderr.splitlines() if "gate failed" in line]
    assert failing == [
        "gitml: gate failed: change(auc) < -0.05: metrics.json:auc old 0.8, new 0.7, "
        "change(auc) = -0.1"
    ]
    assert "loss > 0.5" not in result.stderr


def test_passing_gate_exits_zero(project: Path) -> None:
    result = run_gitml("metrics", "diff", "HEAD", "--fail-if", "rel(auc) < -0.5", cwd=project)
    assert result.returncode == 0 and "ok" in result.stdout


def test_json_adds_gates_and_passed(project: Path) -> None:
    result = run_gitml(
        "metrics", "diff", "--json", "--fail-if", "rel(auc) < -0.1", "--fail-if", "eval.f1 > 0.9",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    doc = loads(result.stdout)
    assert doc["passed"] is False
    assert doc["metrics.json"]["auc"]["new"] == 0.7
    rel, f1 = doc["gates"]
    assert rel["failed"] and rel["value"] == pytest.approx(-0.125)
    assert not f1["failed"] and f1["value"] == pytest.approx(0.6)


def test_markdown_marks_failing_rows(project: Path) -> None:
    result = run_gitml(
        "metrics", "diff", "--md", "--fail-if", "change(auc) < 0", "--fail-if", "loss > 1",
        cwd=project, check=False,
    )  # fmt: skip
    rows = [line for line in result.stdout.splitlines() if "`" in line]
    assert rows[0].startswith("| :x: **fail** | `change(auc) < 0` | 0.8 | 0.7 | -0.1")
    assert rows[1].startswith("| :white_check_mark: pass | `loss > 1`")


def test_missing_value_fails_unless_allowed(project: Path) -> None:
    strict = run_gitml("metrics", "diff", "--fail-if", "acc < 0.5", cwd=project, check=False)
    assert strict.returncode == 1 and "no metric 'acc'" in strict.stderr
    lenient = run_gitml("metrics", "diff", "--fail-if", "acc < 0.5", "--allow-missing", cwd=project)
    assert lenient.returncode == 0 and "skipped" in lenient.stderr


def test_malformed_expression_is_usage_error(project: Path) -> None:
    result = run_gitml("metrics", "diff", "--fail-if", "change(auc) <", cwd=project, check=False)
    assert result.returncode == 2
    assert "at column 14" in result.stderr and "Traceback" not in result.stderr
