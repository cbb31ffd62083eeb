"""`gitml drift` through the installed command: revisions, stored profiles, the gate."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import git, run_gitml


def table(
    n: int, seed: int, shift: float = 0.0, countries: tuple[str, ...] = ("DE", "FR")
) -> pa.Table:
    rng = random.Random(seed)
    return pa.table(
        {
            "income": [rng.gauss(50 + shift, 10) for _ in range(n)],
            "age": [rng.randint(18, 90) for _ in range(n)],
            "country": [rng.choice(countries) for _ in range(n)],
        }
    )


def commit_version(repo: Path, t: pa.Table, message: str) -> None:
    pq.write_table(t, repo / "live.parquet")
    run_gitml("add", "live.parquet", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def drift_json(repo: Path, *args: str) -> tuple[int, dict]:
    result = run_gitml("drift", "live.parquet", *args, "--json", cwd=repo, check=False)
    return result.returncode, json.loads(result.stdout)


def stored_profiles(repo: Path) -> list[Path]:
    return sorted((repo / ".gitml" / "cache" / "profiles").rglob("*.json"))


def test_no_drift_passes_the_gate_and_stores_the_reference_profile(repo: Path) -> None:
    commit_version(repo, table(20_000, 1), "v1")
    pq.write_table(table(20_000, 2), repo / "live.parquet")  # same distribution, new sample
    code, doc = drift_json(repo, "--rev", "HEAD", "--check")
    assert code == 0, doc
    assert doc["passed"] is True and doc["drifted"] == []
    assert doc["reference_profile"] == "built"
    assert doc["rows"] == {"reference": 20_000, "current": 20_000}
    assert {c["column"] for c in doc["columns"]} == {"income", "age", "country"}
    assert len(stored_profiles(repo)) == 1  # the reference version, profiled once
    code, doc = drift_json(repo, "--rev", "HEAD")
    assert doc["reference_profile"] == "stored"
    assert len(stored_profiles(repo)) == 1  # the work tree's data is never stored


def test_drift_is_reported_and_fails_the_gate(repo: Path) -> None:
    commit_version(repo, table(20_000, 1), "v1")
    commit_version(repo, table(20_000, 2, shift=8.0, countries=("DE", "FR", "US")), "v2")
    code, doc = drift_json(repo, "--rev", "HEAD~1", "--against", "HEAD")
    assert code == 0  # a report, not a gate
    columns = {c["column"]: c for c in doc["columns"]}
    assert columns["income"]["drifted"] and columns["income"]["psi"] >= 0.2
    assert columns["country"]["new"] == ["US"] and columns["country"]["drifted"]
    assert not columns["age"]["drifted"]
    assert sorted(doc["drifted"]) == ["country", "income"]
    assert len(stored_profiles(repo)) == 2  # both revisions
    result = run_gitml(
        "drift", "live.parquet", "--rev", "HEAD~1", "--against", "HEAD", "--check", cwd=repo,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "gitml: error: drift in 2 column(s) of live.parquet: income, country"
    )
    assert "income" in result.stdout and "DRIFT" in result.stdout
    # thresholds per column and per statistic
    code, doc = drift_json(
        repo, "--rev", "HEAD~1", "--against", "HEAD", "--check", "-t", "income:psi=100",
        "-t", "country:psi=off",
    )  # fmt: skip
    assert code == 0 and doc["drifted"] == []


def test_markdown_and_schema_changes(repo: Path) -> None:
    commit_version(repo, table(2000, 1), "v1")
    t = table(2000, 1).drop_columns(["age"]).append_column("score", pa.array([1.0] * 2000))
    t = t.set_column(1, "country", pa.array([1] * 2000))
    pq.write_table(t, repo / "live.parquet")
    _, doc = drift_json(repo, "--rev", "HEAD")
    assert doc["added"] == ["score"] and doc["removed"] == ["age"]
    assert doc["retyped"] == [{"column": "country", "reference": "string", "current": "int64"}]
    md = run_gitml("drift", "live.parquet", "--rev", "HEAD", "--md", cwd=repo).stdout
    assert md.startswith("### Data drift") and "| column | kind | PSI |" in md
    assert "removed columns: age" in md


def test_bad_arguments(repo: Path) -> None:
    commit_version(repo, table(100, 1), "v1")
    bad = run_gitml(
        "drift", "live.parquet", "--rev", "HEAD", "-t", "psi=high", cwd=repo, check=False
    )
    assert bad.returncode == 2 and "'high' is not a number" in bad.stderr
    missing = run_gitml("drift", "other.parquet", "--rev", "HEAD", cwd=repo, check=False)
    assert missing.returncode == 1
    assert "other.parquet is not tracked by gitml at HEAD" in missing.stderr
    unknown = run_gitml("drift", "live.parquet", "--rev", "nope", cwd=repo, check=False)
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in unknown.stderr
