"""`gitml init` through the installed command."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.cli.helpers import assert_user_error, porcelain
from tests.conftest import git, make_repo, run_gitml, write


def test_init_outside_git_fails_with_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_gitml(
        "init", cwd=plain, check=False, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    )
    assert_user_error(result, "not inside a git work tree")
    assert not (plain / ".gitml").exists()


def test_init_inside_dot_git_fails(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    result = run_gitml("init", cwd=root / ".git", check=False)
    assert_user_error(result)
    assert not (root / ".git" / ".gitml").exists()


def test_init_twice_is_fine(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    run_gitml("init", cwd=root)
    config = (root / ".gitml" / "config").read_bytes()
    (root / ".gitml" / "config").write_bytes(config + b"# my edit\n")
    second = run_gitml("init", cwd=root)
    assert "already" in second.stdout
    assert (root / ".gitml" / "config").read_bytes() == config + b"# my edit\n"


def test_init_from_subdirectory_uses_top_level(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    (root / "a" / "b").mkdir(parents=True)
    run_gitml("init", cwd=root / "a" / "b")
    assert (root / ".gitml" / "config").is_file()
    assert not (root / "a" / "b" / ".gitml").exists()


def test_local_state_is_ignored_and_config_is_not(repo: Path) -> None:
    write(repo / "data.bin", b"payload")
    run_gitml("add", "data.bin", cwd=repo)
    write(repo / ".gitml" / "config.local", "[cache]\ntype = ['copy']\n")
    assert (repo / ".gitml" / "cache").is_dir()
    assert (repo / ".gitml" / "tmp").is_dir()
    assert (repo / ".gitml" / "state.db").is_file()
    assert porcelain(repo) == {
        ".gitml/config",
        ".gitml/.gitignore",
        ".gitignore",
        "data.bin.gitml",
    }
    probes = [
        ".gitml/config.local",
        ".gitml/cache/blake3/ab/cdef",
        ".gitml/tmp/lock",
        ".gitml/state.db",
        ".gitml/state.db-wal",
    ]
    out = git("check-ignore", "--no-index", *probes, cwd=repo)
    assert set(out.split()) == set(probes)
    tracked = subprocess.run(
        ["git", "check-ignore", "--no-index", ".gitml/config", ".gitml/.gitignore"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    assert tracked.returncode == 1 and tracked.stdout == b""
