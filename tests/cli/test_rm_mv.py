"""`gitml rm` and `gitml mv`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.helpers import assert_user_error, file_pointer, porcelain, read_tree, verify_cache
from tests.conftest import run_gitml, write


def test_rm_keeps_data_and_removes_pointer_and_ignore_entry(repo: Path) -> None:
    write(repo / ".gitignore", "*.log\n")
    write(repo / "f", b"keep me")
    write(repo / "g", b"other")
    run_gitml("add", "f", "g", cwd=repo)
    run_gitml("rm", "f", cwd=repo)
    assert (repo / "f").read_bytes() == b"keep me"
    assert not (repo / "f.gitml").exists()
    assert (repo / ".gitignore").read_text() == "*.log\n/g\n"
    assert "f" in porcelain(repo)  # git sees the data again
    assert json.loads(run_gitml("status", "--json", cwd=repo).stdout) == {"outputs": []}
    # The kept file is an ordinary writable file.
    with open(repo / "f", "ab") as handle:
        handle.write(b"!")
    verify_cache(repo)


def test_rm_dir_via_pointer_name_and_last_entry_removes_gitignore(repo: Path) -> None:
    write(repo / "sub" / "d" / "x", b"x")
    run_gitml("add", "sub/d", cwd=repo)
    run_gitml("rm", "d.gitml", cwd=repo / "sub")
    assert read_tree(repo / "sub" / "d") == {"x": b"x"}
    assert not (repo / "sub" / "d.gitml").exists()
    assert not (repo / "sub" / ".gitignore").exists()


def test_rm_untracked_fails(repo: Path) -> None:
    write(repo / "f", b"f")
    assert_user_error(run_gitml("rm", "f", cwd=repo, check=False), "not tracked")
    assert (repo / "f").read_bytes() == b"f"


def test_mv_file_to_new_dir(repo: Path) -> None:
    write(repo / "f", b"move me")
    write(repo / "stay", b"s")
    run_gitml("add", "f", "stay", cwd=repo)
    run_gitml("mv", "f", "models/best.bin", cwd=repo)
    assert not (repo / "f").exists() and not (repo / "f.gitml").exists()
    assert (repo / "models" / "best.bin").read_bytes() == b"move me"
    assert (repo / "models" / "best.bin.gitml").read_text() == file_pointer(b"move me")
    assert (repo / ".gitignore").read_text() == "/stay\n"
    assert (repo / "models" / ".gitignore").read_text() == "/best.bin\n"
    seen = porcelain(repo)
    assert "models/best.bin" not in seen and "models/best.bin.gitml" in seen
    assert json.loads(run_gitml("status", "--json", cwd=repo).stdout) == {"outputs": []}
    (repo / "models" / "best.bin").unlink()
    run_gitml("checkout", cwd=repo)
    assert (repo / "models" / "best.bin").read_bytes() == b"move me"


def test_mv_dir_into_existing_dir(repo: Path) -> None:
    write(repo / "d" / "a", b"a")
    write(repo / "d" / "s" / "b", b"b")
    (repo / "archive").mkdir()
    run_gitml("add", "d", cwd=repo)
    run_gitml("mv", "d", "archive", cwd=repo)
    assert read_tree(repo / "archive" / "d") == {"a": b"a", "s/b": b"b"}
    assert (repo / "archive" / "d.gitml").exists() and not (repo / "d.gitml").exists()
    assert (repo / "archive" / ".gitignore").read_text() == "/d\n"
    assert not (repo / ".gitignore").exists()
    assert json.loads(run_gitml("status", "--json", cwd=repo).stdout) == {"outputs": []}


def test_mv_refuses_existing_destination_and_outside(repo: Path) -> None:
    write(repo / "f", b"f")
    write(repo / "taken", b"t")
    run_gitml("add", "f", cwd=repo)
    assert_user_error(run_gitml("mv", "f", "taken", cwd=repo, check=False), "already exists")
    assert_user_error(run_gitml("mv", "f", "../f", cwd=repo, check=False), "outside")
    assert_user_error(run_gitml("mv", "f", ".git/f", cwd=repo, check=False), ".git")
    assert (repo / "f").read_bytes() == b"f" and (repo / "taken").read_bytes() == b"t"
    assert not (repo.parent / "f").exists()
    assert (repo / "f.gitml").exists()


def test_mv_deleted_output_moves_pointer(repo: Path) -> None:
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    os.unlink(repo / "f")
    run_gitml("mv", "f", "g", cwd=repo)
    assert (repo / "g.gitml").read_text() == file_pointer(b"f")
    run_gitml("checkout", cwd=repo)
    assert (repo / "g").read_bytes() == b"f"


def test_mv_refuses_destination_whose_pointer_git_ignores(repo: Path) -> None:
    write(repo / ".gitignore", "scratch/\n")
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    assert_user_error(run_gitml("mv", "f", "scratch/f", cwd=repo, check=False), "ignored by git")
    assert (repo / "f").read_bytes() == b"f" and (repo / "f.gitml").exists()


def test_rm_of_hardlinked_output_leaves_a_private_copy(repo: Path) -> None:
    write(repo / ".gitml" / "config", '[cache]\ntype = ["hardlink"]\n')
    write(repo / "d" / "x", b"x")
    run_gitml("add", "d", cwd=repo)
    run_gitml("rm", "d", cwd=repo)
    with open(repo / "d" / "x", "ab") as handle:  # writable, and not the cache's inode
        handle.write(b"more")
    assert (repo / "d" / "x").read_bytes() == b"xmore"
    assert verify_cache(repo)
