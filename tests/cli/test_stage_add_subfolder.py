"""`gitml stage add` in a subfolder writes that folder's gitml.yaml, as `dvc stage add`
writes dvc.yaml in the current directory; its paths are relative to that folder."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import run_gitml, write

ROOT_PIPELINE = "stages:\n  top:\n    cmd: echo top > top.txt\n    outs: [top.txt]\n"


def test_stage_add_from_a_subfolder_writes_the_subfolder_pipeline(repo: Path) -> None:
    write(repo / "gitml.yaml", ROOT_PIPELINE)
    sub = repo / "exp" / "one"
    write(sub / "in.txt", "x\n")
    added = run_gitml(
        "stage", "add", "-n", "copy", "-d", "in.txt", "-o", "out.txt", "cp in.txt out.txt",
        cwd=sub,
    )  # fmt: skip
    assert "Added stage 'copy' to gitml.yaml" in added.stdout
    assert "git add gitml.yaml" in added.stdout  # from exp/one, where the file is

    assert (repo / "gitml.yaml").read_text() == ROOT_PIPELINE  # the root file is untouched
    stages = yaml.safe_load((sub / "gitml.yaml").read_text())["stages"]
    assert stages == {"copy": {"cmd": "cp in.txt out.txt", "deps": ["in.txt"], "outs": ["out.txt"]}}

    doc = json.loads(run_gitml("status", "--json", cwd=repo).stdout)
    assert {s["name"] for s in doc["stages"]} == {"top", "exp/one/gitml.yaml:copy"}
    run_gitml("repro", "exp/one/gitml.yaml:copy", cwd=repo)
    assert (sub / "out.txt").read_text() == "x\n"
    assert (sub / "gitml.lock").is_file() and not (repo / "top.txt").exists()

    # A second stage from the same folder goes into the same file, and sees the first.
    run_gitml(
        "stage",
        "add",
        "-n",
        "count",
        "-d",
        "out.txt",
        "-o",
        "n.txt",
        "wc -l out.txt > n.txt",
        cwd=sub,
    )
    assert set(yaml.safe_load((sub / "gitml.yaml").read_text())["stages"]) == {"copy", "count"}
    run_gitml("repro", "count", cwd=sub)
    assert (sub / "n.txt").read_text().split()[0] == "1"


def test_stage_add_from_a_subfolder_refuses_an_output_another_file_writes(repo: Path) -> None:
    write(
        repo / "gitml.yaml", "stages:\n  top:\n    cmd: echo > sub/x.txt\n    outs: [sub/x.txt]\n"
    )
    (repo / "sub").mkdir()
    clash = run_gitml(
        "stage", "add", "-n", "dup", "-o", "x.txt", "echo", cwd=repo / "sub", check=False
    )
    assert clash.returncode == 1
    assert "sub/x.txt" in clash.stderr
    assert not (repo / "sub" / "gitml.yaml").exists()
