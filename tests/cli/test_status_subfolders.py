"""`gitml status` sees stages of pipelines that live only in subfolders (SPEC 8)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_gitml, write

SUB_PIPELINE = """\
stages:
  copy:
    cmd: cp in.txt out.txt
    deps: [in.txt]
    outs: [out.txt]
"""


def test_status_reports_a_subfolder_stage_and_selects_it_by_address(repo: Path) -> None:
    write(repo / "sub" / "in.txt", "x\n")
    write(repo / "sub" / "gitml.yaml", SUB_PIPELINE)
    assert not (repo / "gitml.yaml").exists()

    plain = run_gitml("status", cwd=repo)
    assert "sub/gitml.yaml:copy (never run)" in plain.stdout

    for target in ("sub/gitml.yaml:copy", "copy"):
        doc = json.loads(run_gitml("status", target, "--json", cwd=repo).stdout)
        assert [s["name"] for s in doc["stages"]] == ["sub/gitml.yaml:copy"]

    run_gitml("repro", cwd=repo)
    assert (repo / "sub" / "out.txt").read_text() == "x\n"
    assert "Everything is up to date." in run_gitml("status", cwd=repo).stdout

    unknown = run_gitml("status", "sub/gitml.yaml:nope", cwd=repo, check=False)
    assert unknown.returncode == 1
    assert "not a tracked output or a stage" in unknown.stderr
