"""Declared schemas stop bad data: a stage out with `schema:` fails its stage, and
`gitml add`/`commit` of a path under `checks.schemas` refuses it (SPEC 7.5)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from tests.conftest import git, run_gitml, write

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


def cache_objects(repo: Path) -> set[str]:
    base = repo / ".gitml" / "cache" / "blake3"
    return (
        {p.parent.name + p.name for p in base.rglob("*") if p.is_file()} if base.exists() else set()
    )


def test_stage_out_breaking_its_schema_fails_the_stage(repo: Path) -> None:
    write(repo / "make.py", MAKE)
    write(repo / "schema.yaml", SCHEMA)
    write(repo / "ages.txt", "30 -1 40")
    write(repo / "gitml.yaml", PIPELINE)
    result = run_gitml("repro", cwd=repo, check=False)
    assert result.returncode == 1
    assert "data.csv breaks its schema schema.yaml: age: min expected >= 0, 1 bad rows" in (
        result.stdout + result.stderr
    )
    assert (repo / "data.csv").exists()  # the command ran; its output stays for inspection
    assert not (repo / "gitml.lock").exists()
    assert cache_objects(repo) == set()  # outputs not cached, run-cache not written
    runs = repo / ".gitml" / "cache" / "runs"
    assert not [p for p in runs.rglob("*") if p.is_file() and p.parent.name != "claims"]
    assert not (repo / "model.txt").exists()  # the dependant did not run

    write(repo / "ages.txt", "30 1 40")
    run_gitml("repro", cwd=repo)
    assert "prepare" in (repo / "gitml.lock").read_text()
    assert (repo / "model.txt").read_text() == "id,age\n0,30\n1,1\n2,40\n"


def test_add_and_commit_refuse_data_that_breaks_its_schema(repo: Path) -> None:
    write(repo / "schema.yaml", SCHEMA)
    write(repo / "gitml.yaml", "checks:\n  schemas:\n    data.csv: schema.yaml\n")
    write(repo / "data.csv", "id,age\n1,5\n1,-3\n")
    result = run_gitml("add", "data.csv", cwd=repo, check=False)
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("gitml: error: data.csv breaks its schema schema.yaml:")
    assert "--no-verify records it anyway" in first
    assert not (repo / "data.csv.gitml").exists() and cache_objects(repo) == set()

    write(repo / "data.csv", "id,age\n1,5\n2,3\n")
    run_gitml("add", "data.csv", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "valid data", cwd=repo)
    pointer = (repo / "data.csv.gitml").read_text()

    write(repo / "data.csv", "id,age\n1,5\n2,-3\n")
    refused = run_gitml("commit", "data.csv", cwd=repo, check=False)
    assert refused.returncode == 1 and "breaks its schema" in refused.stderr
    assert (repo / "data.csv.gitml").read_text() == pointer

    run_gitml("commit", "--no-verify", "data.csv", cwd=repo)
    assert (repo / "data.csv.gitml").read_text() != pointer
