"""`schema_check` and `drift_check`: the `checks.schemas` / `checks.drift` entries of
gitml.yaml as check results for `gitml check` (SPEC 7.3), on a real workspace."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gitml.tabular.checks import drift_check, schema_check
from gitml.workspace import Workspace
from tests.conftest import git, run_gitml, write


def test_schema_and_drift_check_results(repo: Path) -> None:
    pq.write_table(pa.table({"x": [float(i % 100) for i in range(5000)]}), repo / "live.parquet")
    run_gitml("add", "live.parquet", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    pq.write_table(
        pa.table({"x": [float(i % 100) + 40 for i in range(5000)]}), repo / "live.parquet"
    )
    write(repo / "schema.yaml", "gitml-schema: 1\ncolumns:\n  x: {type: float64, max: 100}\n")
    ws = Workspace.find(repo)

    result = schema_check(ws, "live.parquet", "schema.yaml")
    assert result["kind"] == "schema" and result["passed"] is False
    assert result["violations"][0]["check"] == "max" and result["violations"][0]["bad_rows"] == 1950

    drifted = drift_check(ws, "live.parquet", {"rev": "HEAD"})
    assert drifted["kind"] == "drift" and drifted["passed"] is False
    assert drifted["drifted"] == ["x"] and drifted["target"] == "live.parquet"
    relaxed = drift_check(ws, "live.parquet", {"rev": "HEAD", "columns": {"x": {"psi": False}}})
    assert relaxed["passed"] is True  # YAML's `off` reads as false
