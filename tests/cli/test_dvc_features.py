"""DVC features a DVC user reaches for: supported as DVC does, or refused naming the DVC
feature and the gitml way."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_gitml, write

PIPELINE = """\
stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt && echo b >> b.txt
    deps: [a.txt]
    outs: [b.txt]
"""


def test_repro_single_item_runs_only_the_named_stage(repo: Path) -> None:
    write(repo / "gitml.yaml", PIPELINE)
    run_gitml("repro", cwd=repo)
    write(repo / "gitml.yaml", PIPELINE.replace("echo a >", "echo A >"))
    out = run_gitml("repro", "-s", "b", cwd=repo).stdout
    assert "Running stage 'a'" not in out
    assert (repo / "a.txt").read_text() == "a\n"  # a is stale but was not run
    out = run_gitml("repro", "--single-item", "a", cwd=repo).stdout
    assert "Running stage 'a'" in out and "Running stage 'b'" not in out


def test_url_dependency_is_refused_naming_the_feature(repo: Path) -> None:
    write(
        repo / "gitml.yaml",
        "stages:\n  get:\n    cmd: echo\n    deps: [https://example.com/data.csv]\n    outs: [x]\n",
    )
    result = run_gitml("status", cwd=repo, check=False)
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert "'https://example.com/data.csv' is a URL" in line
    assert "URL dependencies" in line and "gitml add" in line


def test_params_py_is_refused_naming_the_gitml_way(repo: Path) -> None:
    write(repo / "params.py", "LR = 0.1\n")
    write(
        repo / "gitml.yaml",
        "stages:\n  t:\n    cmd: echo\n    params:\n      - params.py:\n          - LR\n"
        "    outs: [x]\n",
    )
    result = run_gitml("status", cwd=repo, check=False)
    assert result.returncode == 1
    assert "Python params files (DVC's params.py) are not supported" in result.stderr
    assert "params.yaml" in result.stderr


def test_fetch_accepts_dvc_short_flags_for_all_branches_and_tags(
    repo: Path, tmp_path: Path
) -> None:
    write(repo / "data.txt", "data\n")
    run_gitml("add", "data.txt", cwd=repo)
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=repo)
    run_gitml("push", cwd=repo)
    result = run_gitml("fetch", "-a", "-T", cwd=repo, check=False)
    assert result.returncode == 0, result.stderr


CHAIN = """\
stages:
  a:
    cmd: cp in.txt a.txt
    deps: [in.txt]
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cp b.txt c.txt
    deps: [b.txt]
    outs: [c.txt]
"""


def test_repro_dry_agrees_with_repro_after_run_cache_restores(repo: Path) -> None:
    write(repo / "gitml.yaml", CHAIN)
    write(repo / "in.txt", "v1\n")
    run_gitml("repro", cwd=repo)
    write(repo / "in.txt", "v2\n")
    run_gitml("repro", cwd=repo)
    write(repo / "in.txt", "v1\n")  # back to inputs the run-cache has seen
    dry = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)["stages"]
    text = run_gitml("repro", "--dry", cwd=repo).stdout
    real = json.loads(run_gitml("repro", "--json", cwd=repo).stdout)["stages"]
    assert [s["outcome"] for s in real] == ["restored", "restored", "restored"]
    assert [s["outcome"] for s in dry] == ["would restore"] * 3
    assert text.count("from the run-cache") == 3
    assert (repo / "c.txt").read_text() == "v1\n"
