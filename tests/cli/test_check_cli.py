"""`gitml check`: the checks `checks:` in gitml.yaml declares, against a baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.registry_support import loads, make_project, retrain
from tests.conftest import git, run_gitml, write

CHECKS = """checks:
  baseline: main
  metrics:
    fail_if: ["change(auc) < -0.01", "loss > 0.5"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p")
    write(root / "gitml.yaml", (root / "gitml.yaml").read_text() + CHECKS)
    git("commit", "-q", "-am", "checks", cwd=root)
    return root


def test_regression_against_baseline_fails_with_json_report(project: Path) -> None:
    retrain(project, 0.7, 0.4, commit=False)
    result = run_gitml("check", "--json", cwd=project, check=False)
    assert result.returncode == 1
    doc = loads(result.stdout)
    assert doc["passed"] is False and doc["baseline"] == "main"
    (entry,) = doc["checks"]
    assert entry["kind"] == "metrics" and entry["passed"] is False
    assert [g["failed"] for g in entry["gates"]] == [True, False]
    assert "check failed: metrics" in result.stderr and "change(auc) < -0.01" in result.stderr


def test_improvement_passes_and_baseline_flag_wins(project: Path) -> None:
    retrain(project, 0.9, 0.2, commit=False)
    assert run_gitml("check", cwd=project).returncode == 0
    git("commit", "-q", "-am", "better", cwd=project)
    retrain(project, 0.85, 0.2, commit=False)  # worse than HEAD, better than HEAD~1
    assert run_gitml("check", "--baseline", "HEAD", cwd=project, check=False).returncode == 1
    assert run_gitml("check", "--baseline", "HEAD~1", cwd=project).returncode == 0


def test_no_checks_and_bad_declarations(tmp_path: Path) -> None:
    root = make_project(tmp_path / "q")
    result = run_gitml("check", "--json", cwd=root)
    assert loads(result.stdout) == {"passed": True, "baseline": None, "checks": []}
    base = (root / "gitml.yaml").read_text()
    write(root / "gitml.yaml", base + "checks:\n  metric:\n    fail_if: ['auc < 1']\n")
    typo = run_gitml("check", cwd=root, check=False)
    assert typo.returncode == 1 and "unknown key 'checks.metric'" in typo.stderr
    write(root / "gitml.yaml", base + "checks:\n  metrics:\n    fail_if: ['auc <']\n")
    bad = run_gitml("check", "--baseline", "HEAD", cwd=root, check=False)
    assert bad.returncode == 1 and "malformed gate expression" in bad.stderr
    write(root / "gitml.yaml", base + "checks:\n  metrics:\n    fail_if: ['auc < 1']\n")
    nobase = run_gitml("check", cwd=root, check=False)
    assert nobase.returncode == 1 and "no baseline" in nobase.stderr
    assert run_gitml("status", cwd=root).returncode == 0  # the pipeline parser accepts checks:
