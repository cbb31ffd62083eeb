"""`gitml report`: experiments (baseline and refs/gitml/exps/ commits), metrics over the
recent commits, registry stages from GTO-format tags and saved check results, as
Markdown with Mermaid charts, JSON, or an offline page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import git, run_gitml, write
from tests.ml_repo import build, retrain


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("report") / "repo")
    retrain(root, 0.2)
    retrain(root, 0.3)
    git("tag", "-a", "model@v0.0.1", "-m", "v1", "HEAD~1", cwd=root)
    git("tag", "-a", "model@v0.0.2", "-m", "v2", "HEAD", cwd=root)
    git("tag", "-a", "model#prod#1", "-m", "prod", "HEAD~1", cwd=root)
    git("tag", "-a", "model#staging#1", "-m", "staging", "HEAD~1", cwd=root)
    git("tag", "-a", "model#staging#2", "-m", "staging", "HEAD", cwd=root)
    git("tag", "-a", "model#prod!#2", "-m", "demoted", "HEAD~1", cwd=root)
    git("tag", "-a", "model#prod#3", "-m", "prod again", "HEAD", cwd=root)
    run_gitml("exp", "run", "--temp", "-S", "train.lr=0.5", "-n", "swift-lr", cwd=root)
    return root


def test_report_json_reads_each_commit_and_the_registry(project: Path) -> None:
    doc = json.loads(run_gitml("report", "--json", cwd=project).stdout)
    runs = {r["name"]: r for r in doc["experiments"]}
    assert list(runs) == ["workspace", "main", "swift-lr"]
    assert runs["workspace"]["metrics"] == {"metrics.json:auc": 1.0, "metrics.json:loss": 0.7}
    assert runs["workspace"]["params"]["params.yaml:train.lr"] == 0.3
    assert runs["main"]["rev"] == git("rev-parse", "HEAD", cwd=project).strip()
    assert runs["main"]["metrics"] == runs["workspace"]["metrics"]
    assert runs["swift-lr"]["state"] == "success"
    assert runs["swift-lr"]["metrics"] == {"metrics.json:auc": 1.2, "metrics.json:loss": 0.5}
    assert runs["swift-lr"]["params"]["params.yaml:train.lr"] == 0.5
    history = [(p["subject"], p["metrics"].get("metrics.json:auc")) for p in doc["history"]]
    assert history == [("raw data", None), ("train", 0.8), ("lr 0.2", 0.9), ("lr 0.3", 1.0)]
    head = git("rev-parse", "HEAD", cwd=project).strip()
    assert [(a["model"], a["stage"], a["version"], a["commit"]) for a in doc["registry"]] == [
        ("model", "prod", "v0.0.2", head),
        ("model", "staging", "v0.0.2", head),
    ]
    assert doc["checks"] is None


def test_report_markdown_has_tables_and_mermaid_charts(project: Path, tmp_path: Path) -> None:
    checks = write(
        tmp_path / "check.json",
        json.dumps(
            {
                "passed": False,
                "checks": [
                    {
                        "kind": "metrics",
                        "target": "metrics.json",
                        "passed": False,
                        "failed": ["loss > 0.5"],
                    },
                    {"kind": "schema", "target": "data/raw.csv", "passed": True},
                ],
            }
        ),
    )
    md = run_gitml("report", "--md", "-n", "3", "--checks", str(checks), cwd=project).stdout
    assert (
        "| experiment | state | metrics.json:auc | metrics.json:loss | params.yaml:train.lr |" in md
    )
    assert "| workspace | success | 1 | 0.7 | 0.3 |" in md
    assert re.search(r"\| swift-lr \([0-9a-f]{7}\) \| success \| 1\.2 \| 0\.5 \| 0\.5 \|", md)
    charts = re.findall(r"```mermaid\nxychart-beta\n(.*?)```", md, re.S)
    assert len(charts) == 2  # auc and loss
    auc = charts[0]
    commits = git("log", "-3", "--format=%h", "--abbrev=7", cwd=project).split()[::-1]
    assert f"x-axis [{', '.join(json.dumps(c) for c in commits)}]" in auc
    assert "line [0.8, 0.9, 1]" in auc
    assert "| model | prod | v0.0.2 |" in md and "| model | staging | v0.0.2 |" in md
    assert "### Checks: FAILED" in md and "| FAIL | metrics | metrics.json |" in md
    assert "| pass | schema | data/raw.csv |" in md


def test_report_page_and_a_bad_checks_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    run_gitml("report", "-o", str(out), cwd=project)
    page = (out / "index.html").read_text()
    assert page.count("<svg") == 2 and "<script" not in page
    assert '<section class="table" id="registry">' in page
    bad = write(tmp_path / "bad.json", "not json")
    result = run_gitml("report", "--md", "--checks", str(bad), cwd=project, check=False)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a 'gitml check --json' document" in result.stderr


def test_report_registry_matches_model_show(repo: Path) -> None:
    write(repo / "a.txt", "a")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "first", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    git("tag", "-a", "churn@v1.0.0-rc.1", "-m", "rc", cwd=repo)
    git("tag", "-a", "churn#prod#1", "-m", "prod", cwd=repo)
    write(repo / "a.txt", "b")
    git("commit", "-qam", "second", cwd=repo)
    git("tag", "-a", "churn#dev#2", "-m", "dev: a commit with no version", cwd=repo)
    doc = json.loads(run_gitml("report", "--json", cwd=repo).stdout)
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    assert [(a["model"], a["stage"], a["version"], a["commit"]) for a in doc["registry"]] == [
        ("churn", "dev", None, head),
        ("churn", "prod", "v1.0.0-rc.1", first),
    ]
    (model,) = json.loads(run_gitml("model", "show", "--json", cwd=repo).stdout)["models"]
    assert model["stages"]["prod"] == "v1.0.0-rc.1"
