"""`gitml check` runs `checks.schemas` and `checks.drift` beside the metric gates."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import git, run_gitml, write


def test_check_runs_schemas_and_drift(repo: Path) -> None:
    pq.write_table(pa.table({"x": [float(i % 100) for i in range(5000)]}), repo / "live.parquet")
    run_gitml("add", "live.parquet", cwd=repo)
    write(repo / "schema.yaml", "gitml-schema: 1\ncolumns:\n  x: {type: float64, max: 100}\n")
    write(
        repo / "gitml.yaml",
        "checks:\n  schemas:\n    live.parquet: schema.yaml\n"
        "  drift:\n    live.parquet: {rev: HEAD}\n",
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)

    ok = run_gitml("check", "--json", cwd=repo)
    doc = json.loads(ok.stdout)
    assert doc["passed"] is True
    assert [(c["kind"], c["target"], c["passed"]) for c in doc["checks"]] == [
        ("schema", "live.parquet", True),
        ("drift", "live.parquet", True),
    ]

    shifted = pa.table({"x": [float(i % 100) + 40 for i in range(5000)]})
    pq.write_table(shifted, repo / "live.parquet")
    bad = run_gitml("check", "--json", cwd=repo, check=False)
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["passed"] is False
    by_kind = {c["kind"]: c for c in doc["checks"]}
    assert by_kind["schema"]["passed"] is False
    assert by_kind["schema"]["violations"][0]["bad_rows"] == 1950
    assert by_kind["drift"]["passed"] is False and by_kind["drift"]["drifted"] == ["x"]

    human = run_gitml("check", cwd=repo, check=False)
    assert human.returncode == 1
    assert "live.parquet" in human.stdout + human.stderr
