"""Declared schemas stop bad data: a stage out with `schema:` fails its stage, and
`gitml add`/`commit` of a path under `checks.schemas` refuses it (SPEC 7.5)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.schema_support import (
    SCHEMA,
    assert_schema_failure_records_nothing,
    cache_objects,
    write_pipeline,
)
from tests.conftest import git, run_gitml, write


def test_stage_out_breaking_its_schema_fails_the_stage(repo: Path) -> None:
    assert_schema_failure_records_nothing(repo)


def test_failed_stage_leaves_its_output_for_inspection(repo: Path) -> None:
    write_pipeline(repo, "30 -1 40")
    assert run_gitml("repro", cwd=repo, check=False).returncode == 1
    assert (repo / "data.csv").read_text() == "id,age\n0,30\n1,-1\n2,40\n"


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


def test_commit_of_a_stage_refuses_an_out_that_breaks_its_schema(repo: Path) -> None:
    write_pipeline(repo, "30 -1 40")
    pipeline = (repo / "gitml.yaml").read_text().replace("\n          schema: schema.yaml", "")
    write(repo / "gitml.yaml", pipeline + "checks:\n  schemas:\n    data.csv: schema.yaml\n")
    failed = run_gitml("repro", "prepare", cwd=repo, check=False)
    assert failed.returncode == 1 and "data.csv breaks its schema" in failed.stdout + failed.stderr

    for target in ("prepare", "data.csv"):
        refused = run_gitml("commit", target, cwd=repo, check=False)
        assert refused.returncode == 1
        first = refused.stderr.splitlines()[0]
        assert first.startswith("gitml: error: data.csv breaks its schema schema.yaml: age: min")
        assert "--no-verify records it anyway" in first
        assert not (repo / "gitml.lock").exists() and cache_objects(repo) == set()

    run_gitml("commit", "--no-verify", "prepare", cwd=repo)
    (out,) = yaml.safe_load((repo / "gitml.lock").read_text())["stages"]["prepare"]["outs"]
    assert out["path"] == "data.csv"
    assert out["oid"].removeprefix("blake3:") in cache_objects(repo)
