"""A two-stage pipeline whose first out declares a schema, and what a schema failure
must leave behind, for the local runner and every executor."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.conftest import run_gitml, write

SCHEMA = "gitml-schema: 1\ncolumns:\n  id: {type: int64, unique: true}\n  age: {min: 0}\n"

MAKE = """\
import sys
ages = open("ages.txt").read().split()
with open("data.csv", "w") as f:
    f.write("id,age\\n")
    for i, age in enumerate(ages):
        f.write(f"{i},{age}\\n")
"""

PIPELINE = f"""\
stages:
  prepare:
    cmd: {shlex.quote(sys.executable)} make.py
    deps: [make.py, ages.txt]
    outs:
      - data.csv:
          schema: schema.yaml
  train:
    cmd: {shlex.quote(sys.executable)} -c "open('model.txt', 'w').write(open('data.csv').read())"
    deps: [data.csv]
    outs: [model.txt]
"""

FAILURE = "data.csv breaks its schema schema.yaml: age: min expected >= 0, 1 bad rows"


def cache_objects(repo: Path) -> set[str]:
    base = repo / ".gitml" / "cache" / "blake3"
    return (
        {p.parent.name + p.name for p in base.rglob("*") if p.is_file()} if base.exists() else set()
    )


def store_files(store: Path) -> list[Path]:
    """Data a folder remote holds (all but its format marker)."""
    if not store.exists():
        return []
    return [p for p in store.rglob("*") if p.is_file() and p.name != "gitml-remote.json"]


def write_pipeline(repo: Path, ages: str) -> None:
    write(repo / "make.py", MAKE)
    write(repo / "schema.yaml", SCHEMA)
    write(repo / "ages.txt", ages)
    write(repo / "gitml.yaml", PIPELINE)


def assert_schema_failure_records_nothing(
    repo: Path, *repro_args: str, store: Path | None = None
) -> None:
    """`gitml repro` of data with a negative age fails `prepare` and records nothing (in
    the cache, nor in the remote `store` the workers push to); fixed data then runs both
    stages."""
    write_pipeline(repo, "30 -1 40")
    result = run_gitml("repro", *repro_args, cwd=repo, check=False)
    assert result.returncode == 1
    assert FAILURE in result.stdout + result.stderr
    assert not (repo / "gitml.lock").exists()
    assert cache_objects(repo) == set()  # outputs not cached, run-cache not written
    runs = repo / ".gitml" / "cache" / "runs"
    assert not [p for p in runs.rglob("*") if p.is_file() and p.parent.name != "claims"]
    assert not (repo / "model.txt").exists()  # the dependant did not run
    if store is not None:
        assert store_files(store) == []

    write(repo / "ages.txt", "30 1 40")
    run_gitml("repro", *repro_args, cwd=repo)
    assert "prepare" in (repo / "gitml.lock").read_text()
    if store is not None:
        assert store_files(store) != []
    if "--no-download" not in repro_args:
        assert (repo / "model.txt").read_text() == "id,age\n0,30\n1,1\n2,40\n"
