"""`gitml validate` through the installed command, on data the tests write (SPEC 7.5)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from tests.conftest import git, run_gitml, write

SCHEMA = """\
gitml-schema: 1
rows: {min: 1}
extra_columns: false
columns:
  id:      {type: int64, nullable: false, unique: true}
  age:     {type: int64, min: 0, max: 130}
  country: {type: string, allowed: [DE, FR, US], max_null_fraction: 0.01}
  email:   {type: string, regex: '^[^@]+@[^@]+$'}
"""


def good_table(n: int = 1000, start: int = 0) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "age": pa.array([i % 90 for i in ids], pa.int64()),
            "country": pa.array([("DE", "FR", "US")[i % 3] for i in ids]),
            "email": pa.array([f"user{i}@example.org" for i in ids]),
        }
    )


def bad_table() -> pa.Table:
    t = good_table(100).to_pydict()
    t["id"][7] = 3  # one repeat of id 3
    t["age"][10] = -4
    t["age"][11] = 200
    t["country"][20] = "XX"
    t["country"][21] = None
    t["country"][22] = None
    t["email"][30] = "not-an-email"
    return pa.table(t, schema=good_table(1).schema)


def validate_json(repo: Path, *args: str) -> tuple[int, dict]:
    result = run_gitml("validate", *args, "--json", cwd=repo, check=False)
    return result.returncode, json.loads(result.stdout)


def test_valid_parquet_passes(repo: Path) -> None:
    pq.write_table(good_table(), repo / "train.parquet")
    write(repo / "schema.yaml", SCHEMA)
    result = run_gitml("validate", "train.parquet", "--schema", "schema.yaml", cwd=repo)
    assert "valid (1000 rows" in result.stdout
    code, doc = validate_json(repo, "train.parquet", "--schema", "schema.yaml")
    assert code == 0 and doc["passed"] is True and doc["targets"][0]["rows"] == 1000


def test_each_violation_is_reported_with_count_and_example(repo: Path) -> None:
    pq.write_table(bad_table(), repo / "train.parquet")
    write(repo / "schema.yaml", SCHEMA)
    code, doc = validate_json(repo, "train.parquet", "--schema", "schema.yaml")
    assert code == 1
    found = {(v["column"], v["check"]): v for v in doc["targets"][0]["violations"]}
    assert found[("id", "unique")]["bad_rows"] == 1 and found[("id", "unique")]["example"] == 3
    assert found[("age", "min")] == {
        "column": "age",
        "check": "min",
        "expected": ">= 0",
        "bad_rows": 1,
        "example": -4,
        "row": 10,
    }
    assert found[("age", "max")]["example"] == 200
    assert found[("country", "allowed")]["bad_rows"] == 1
    assert found[("country", "allowed")]["example"] == "XX"
    assert found[("country", "max_null_fraction")]["bad_rows"] == 2
    assert found[("email", "regex")]["example"] == "not-an-email"
    assert len(found) == 6
    text = run_gitml("validate", "train.parquet", "--schema", "schema.yaml", cwd=repo, check=False)
    assert text.returncode == 1
    assert "age: min: expected >= 0; 1 bad rows  e.g. -4 (row 10)" in text.stdout
    assert text.stderr.strip() == "gitml: error: 6 schema violation(s) in train.parquet"


def test_type_absent_and_extra_columns(repo: Path) -> None:
    t = good_table(10).drop_columns(["email"]).append_column("extra", pa.array([1.0] * 10))
    t = t.set_column(1, "age", pa.array([float(i) for i in range(10)]))
    pq.write_table(t, repo / "t.parquet")
    write(repo / "schema.yaml", SCHEMA)
    code, doc = validate_json(repo, "t.parquet", "--schema", "schema.yaml")
    assert code == 1
    found = {(v["column"], v["check"]): v for v in doc["targets"][0]["violations"]}
    assert (
        found[("age", "type")]["expected"] == "int64"
        and found[("age", "type")]["example"] == "float64"
    )
    assert ("email", "present") in found
    assert found[("extra", "extra_columns")]["bad_rows"] == 10


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "feather", "folder"])
def test_other_formats_and_folders(repo: Path, fmt: str) -> None:
    table = bad_table()
    if fmt == "csv":
        pcsv.write_csv(table, repo / "data.csv")
        target = "data.csv"
    elif fmt == "jsonl":
        lines = [json.dumps(row) for row in table.to_pylist()]
        write(repo / "data.jsonl", "\n".join(lines) + "\n")
        target = "data.jsonl"
    elif fmt == "feather":
        feather.write_feather(table, repo / "data.feather")
        target = "data.feather"
    else:
        (repo / "parts").mkdir()
        pq.write_table(table.slice(0, 50), repo / "parts" / "a.parquet")
        pq.write_table(table.slice(50), repo / "parts" / "b.parquet")
        write(repo / "parts" / "_SUCCESS", "")
        target = "parts"
    write(repo / "schema.yaml", SCHEMA)
    code, doc = validate_json(repo, target, "--schema", "schema.yaml")
    assert code == 1
    assert doc["targets"][0]["rows"] == 100
    checks = sorted((v["column"], v["check"]) for v in doc["targets"][0]["violations"])
    assert ("age", "min") in checks and ("id", "unique") in checks and len(checks) == 6


def test_unique_spills_to_disk_and_counts_the_same(repo: Path) -> None:
    """Past its memory budget the unique check partitions values into .gitml/tmp."""
    from gitml.tabular.read import open_local
    from gitml.tabular.schema import parse_schema
    from gitml.tabular.unique import DuplicateCounter
    from gitml.tabular.validate import validate

    ids = [i % 4000 for i in range(5000)]  # 1000 repeats
    pq.write_table(pa.table({"id": ids, "s": [f"k{i}" for i in ids]}), repo / "u.parquet")
    schema = parse_schema(
        "gitml-schema: 1\ncolumns:\n  id: {unique: true}\n  s: {unique: true}\n", "s.yaml"
    )
    report = validate(open_local(repo / "u.parquet"), schema, repo / ".gitml" / "tmp")
    assert {v.column: v.bad_rows for v in report.violations} == {"id": 1000, "s": 1000}
    counter = DuplicateCounter(repo / ".gitml" / "tmp", memory_budget=1000, partitions=8)
    for start in range(0, 5000, 500):
        counter.add(pa.array([f"k{i}" for i in ids[start : start + 500]]))
    assert counter.spilled
    assert list((repo / ".gitml" / "tmp").iterdir())  # the partitions are on disk
    repeated, example = counter.finish()
    assert repeated == 1000 and example.startswith("k")
    assert not list((repo / ".gitml" / "tmp").glob("unique-*"))  # and removed after


def test_infer_prints_a_schema_the_data_passes(repo: Path) -> None:
    pq.write_table(good_table(), repo / "train.parquet")
    result = run_gitml("validate", "--infer", "train.parquet", cwd=repo)
    assert "gitml-schema: 1" in result.stdout
    write(repo / "inferred.yaml", result.stdout)
    run_gitml("validate", "train.parquet", "--schema", "inferred.yaml", cwd=repo)
    doc = json.loads(run_gitml("validate", "--infer", "train.parquet", "--json", cwd=repo).stdout)
    assert doc["columns"]["age"] == {"type": "int64", "nullable": False, "min": 0, "max": 89}


def test_declared_schema_and_revision(repo: Path) -> None:
    pq.write_table(good_table(), repo / "train.parquet")
    write(repo / "schemas" / "train.yaml", SCHEMA)
    write(repo / "gitml.yaml", "checks:\n  schemas:\n    train.parquet: schemas/train.yaml\n")
    run_gitml("add", "train.parquet", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    pq.write_table(bad_table(), repo / "train.parquet")
    assert run_gitml("validate", "train.parquet", cwd=repo, check=False).returncode == 1
    # the committed version is still valid, read from the cache without a checkout
    result = run_gitml("validate", "train.parquet", "--rev", "HEAD", cwd=repo)
    assert "HEAD:train.parquet: valid (1000 rows" in result.stdout


BAD_INPUT = [
    ("notes.txt", b"hello", "not a tabular file"),
    ("broken.parquet", b"PAR1" + b"\0" * 64 + b"garbage", "not a readable Parquet file"),
    ("empty.csv", b"", "empty file"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_INPUT)
def test_bad_data_is_one_line(repo: Path, name: str, data: bytes, message: str) -> None:
    write(repo / name, data)
    write(repo / "schema.yaml", SCHEMA)
    result = run_gitml("validate", name, "--schema", "schema.yaml", cwd=repo, check=False)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("gitml-schema: 1\ncolumns: {id: {type: int64\n", "not valid YAML"),
        ("gitml-schema: 1\ncolumns:\n  id: {type: integer}\n", "unknown type 'integer'"),
        ("columns: {}\n", "'gitml-schema: 1' is missing"),
    ],
)
def test_bad_schema_is_one_line(repo: Path, schema: str, message: str) -> None:
    pq.write_table(good_table(10), repo / "t.parquet")
    write(repo / "schema.yaml", schema)
    result = run_gitml("validate", "t.parquet", "--schema", "schema.yaml", cwd=repo, check=False)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_revision_where_path_is_not_tracked(repo: Path) -> None:
    write(repo / "readme", "x")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "first", cwd=repo)
    pq.write_table(good_table(10), repo / "t.parquet")
    write(repo / "schema.yaml", SCHEMA)
    result = run_gitml(
        "validate", "t.parquet", "--schema", "schema.yaml", "--rev", "HEAD", cwd=repo, check=False
    )
    assert result.returncode == 1
    assert "t.parquet is not tracked by gitml at HEAD" in result.stderr
