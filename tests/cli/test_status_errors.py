"""`status` and friends report errors as errors: one line on stderr and exit 1
(issue 19 defect 4, issue 18 items 5 and 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_gitml, write

_BROKEN_CONFIG = b"# settings\n[core\ngarbage\n"


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["add", "f"],
        ["commit"],
        ["checkout"],
        ["ls"],
        ["remote", "list"],
        ["push"],
        ["repro", "--dry"],
    ],
)
def test_a_malformed_config_is_refused_naming_file_and_line(repo: Path, command: list[str]) -> None:
    write(repo / "f", b"data")
    write(repo / ".gitml" / "config", _BROKEN_CONFIG)
    result = run_gitml(*command, cwd=repo, check=False)
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert ".gitml/config:2:" in lines[0] and "malformed TOML" in lines[0]
    assert not (repo / "f.gitml").exists()


def test_status_of_an_unknown_path_is_an_error(repo: Path) -> None:
    write(repo / "f", b"data")
    run_gitml("add", "f", cwd=repo)
    result = run_gitml("status", "nosuchpath", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "gitml: error: nosuchpath: not a tracked output or a stage"


def test_status_of_a_file_inside_a_tracked_directory_reports_the_directory(repo: Path) -> None:
    write(repo / "d" / "a", b"a")
    run_gitml("add", "d", cwd=repo)
    write(repo / "d" / "a", b"changed")
    doc = json.loads(run_gitml("status", "--json", "d/a", cwd=repo).stdout)
    assert doc["outputs"] == [{"path": "d", "state": "modified", "modified": ["a"]}]


def test_status_of_a_stage_name_or_stage_out_reports_that_stage(repo: Path) -> None:
    write(repo / "in.txt", b"one")
    run_gitml(
        "stage", "add", "-n", "copy", "-d", "in.txt", "-o", "out.txt", "cp in.txt out.txt", cwd=repo
    )
    run_gitml("stage", "add", "-n", "other", "-o", "o2.txt", "echo x > o2.txt", cwd=repo)
    run_gitml("repro", cwd=repo)
    write(repo / "in.txt", b"two")
    for target in ("copy", "out.txt"):
        doc = json.loads(run_gitml("status", "--json", target, cwd=repo).stdout)
        assert [s["name"] for s in doc["stages"]] == ["copy"]
    doc = json.loads(run_gitml("status", "--json", "other", cwd=repo).stdout)
    assert doc["stages"] == []


def test_a_corrupt_pointer_is_an_error_on_stderr(repo: Path) -> None:
    write(repo / "good", b"good")
    write(repo / "bad", b"bad")
    run_gitml("add", "good", "bad", cwd=repo)
    write(repo / "good", b"edited")
    write(repo / "bad.gitml", b"garbage\n")
    result = run_gitml("status", cwd=repo, check=False)
    assert result.returncode == 1
    assert "modified:" in result.stdout and "good" in result.stdout
    assert "bad" not in result.stdout
    assert result.stderr.strip() == "gitml: error: bad.gitml:1: malformed pointer line 'garbage'"
    as_json = run_gitml("status", "--json", cwd=repo, check=False)
    assert as_json.returncode == 1
    states = {o["path"]: o["state"] for o in json.loads(as_json.stdout)["outputs"]}
    assert states == {"good": "modified", "bad": "error"}


def test_a_corrupt_pointer_alone_is_not_up_to_date(repo: Path) -> None:
    write(repo / "bad", b"bad")
    run_gitml("add", "bad", cwd=repo)
    write(repo / "bad.gitml", b"garbage\n")
    result = run_gitml("status", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "malformed pointer" in result.stderr
