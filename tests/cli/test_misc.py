"""Global behaviour: --version, -v tracebacks, subdirectories, and concurrent writers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from gitml import __version__
from tests.cli.helpers import assert_user_error, b3, read_tree, verify_cache
from tests.conftest import GITML, run_gitml, write


def test_version(tmp_path: Path) -> None:
    result = run_gitml("--version", cwd=tmp_path)
    assert result.stdout.strip() == f"gitml {__version__}"
    assert result.stderr == ""


def test_python_dash_m(tmp_path: Path) -> None:
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "gitml", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"gitml {__version__}"


def test_usage_error_exits_2(repo: Path) -> None:
    result = run_gitml("frobnicate", cwd=repo, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_outside_a_workspace(tmp_path: Path) -> None:
    result = run_gitml("status", cwd=tmp_path, check=False)
    assert_user_error(result, "not a gitml workspace")


def test_verbose_shows_traceback_default_does_not(repo: Path) -> None:
    quiet = run_gitml("add", "missing.bin", cwd=repo, check=False)
    assert_user_error(quiet, "missing.bin")
    loud = run_gitml("-v", "add", "missing.bin", cwd=repo, check=False)
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert "gitml: error: " in loud.stderr


def test_quiet_prints_nothing_on_success(repo: Path) -> None:
    write(repo / "f", b"f")
    result = run_gitml("-q", "add", "f", cwd=repo)
    assert (result.stdout, result.stderr) == ("", "")


def test_commands_from_a_subdirectory(repo: Path) -> None:
    sub = repo / "exp" / "run1"
    write(sub / "metrics" / "m.json", b"{}")
    write(sub / "model.pt", b"weights")
    run_gitml("add", "model.pt", "metrics", cwd=sub)
    assert (sub / "model.pt.gitml").exists()
    assert (sub / ".gitignore").read_text() == "/model.pt\n/metrics\n"
    (sub / "model.pt").unlink()
    status = json.loads(run_gitml("status", "--json", cwd=sub).stdout)
    assert status == {"outputs": [{"path": "exp/run1/model.pt", "state": "deleted"}]}
    run_gitml("checkout", cwd=repo / "exp")
    assert (sub / "model.pt").read_bytes() == b"weights"
    run_gitml("mv", "model.pt", "../model.pt", cwd=sub)
    assert (repo / "exp" / "model.pt").read_bytes() == b"weights"
    run_gitml("rm", "metrics", cwd=sub)
    assert not (sub / "metrics.gitml").exists()


def test_concurrent_adds_both_succeed(repo: Path) -> None:
    for who in ("a", "b"):
        for i in range(60):
            write(repo / who / f"f{i:03d}", f"{who}{i}".encode() * 100)
        write(repo / f"{who}.bin", os.urandom(1 << 20))
    env = {**os.environ, "CI": "1"}
    assert GITML
    procs = [
        subprocess.Popen(
            [GITML, "add", who, f"{who}.bin"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lines = set((repo / ".gitignore").read_text().splitlines())
    assert lines == {"/a", "/b", "/a.bin", "/b.bin"}
    for who in ("a", "b"):
        assert (repo / f"{who}.gitml").exists() and (repo / f"{who}.bin.gitml").exists()
    objects = verify_cache(repo)
    assert b3((repo / "a.bin").read_bytes()) in objects
    assert json.loads(run_gitml("status", "--json", cwd=repo).stdout) == {"outputs": []}
    snapshot = read_tree(repo / "a")
    for who in ("a", "b"):
        for p in (repo / who).iterdir():
            p.unlink()
    run_gitml("checkout", cwd=repo)
    assert read_tree(repo / "a") == snapshot


def test_runs_without_the_click_package(tmp_path: Path) -> None:
    """typer vendors click; gitml must not need the separate `click` distribution."""
    import sys

    code = (
        "import sys; sys.modules['click'] = None; "
        "sys.argv = ['gitml', *sys.argv[1:]]; "
        "from gitml.cli.app import run; run()"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code, "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0 and ok.stdout.strip() == f"gitml {__version__}", ok.stderr
    bad = subprocess.run(
        [sys.executable, "-c", code, "status", "--bogus"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr


def test_usage_errors_exit_2_without_traceback(repo: Path) -> None:
    for args in (["add"], ["status", "--bogus"], ["mv", "only-one"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
