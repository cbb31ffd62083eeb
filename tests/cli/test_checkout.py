"""`gitml checkout` and `gitml commit`."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from tests.cli.helpers import (
    assert_user_error,
    b3,
    file_pointer,
    object_path,
    read_tree,
    verify_cache,
)
from tests.conftest import git, run_gitml, write

FILES = {
    "a.bin": os.urandom(2000),
    "sub/b.txt": b"hello\n",
    "sub/deep/c": b"",
    "run.sh": b"#!/bin/sh\n",
}


def _make_outputs(repo: Path) -> None:
    for name, data in FILES.items():
        write(repo / "data" / name, data)
    (repo / "data" / "run.sh").chmod(0o755)
    write(repo / "model.bin", b"weights v1")
    write(repo / "tool", b"#!/bin/sh\n").chmod(0o755)
    run_gitml("add", "data", "model.bin", "tool", cwd=repo)


def _commit(repo: Path, message: str) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)


def test_checkout_after_rm_restores_identical_bytes(repo: Path) -> None:
    _make_outputs(repo)
    shutil.rmtree(repo / "data")
    (repo / "model.bin").unlink()
    (repo / "tool").unlink()
    result = run_gitml("checkout", cwd=repo)
    assert "Restored" in result.stdout
    assert read_tree(repo / "data") == FILES
    assert (repo / "model.bin").read_bytes() == b"weights v1"
    assert os.stat(repo / "data" / "run.sh").st_mode & stat.S_IXUSR
    assert not os.stat(repo / "data" / "a.bin").st_mode & stat.S_IXUSR
    assert os.stat(repo / "tool").st_mode & stat.S_IXUSR
    assert run_gitml("status", "--json", cwd=repo).stdout.strip() == '{\n  "outputs": []\n}'
    # Restored workspace files are private copies: writing them cannot reach the cache.
    assert (
        os.stat(repo / "model.bin").st_ino != os.stat(object_path(repo, b3(b"weights v1"))).st_ino
    )
    verify_cache(repo)


def test_checkout_nothing_to_do(repo: Path) -> None:
    _make_outputs(repo)
    assert "up to date" in run_gitml("checkout", cwd=repo).stdout


def test_checkout_single_path_and_from_subdir(repo: Path) -> None:
    _make_outputs(repo)
    (repo / "model.bin").unlink()
    shutil.rmtree(repo / "data" / "sub")
    run_gitml("checkout", ".", cwd=repo / "data")
    assert read_tree(repo / "data") == FILES
    assert not (repo / "model.bin").exists()
    run_gitml("checkout", "../model.bin", cwd=repo / "data")
    assert (repo / "model.bin").read_bytes() == b"weights v1"


def test_checkout_paths_inside_a_tracked_directory(repo: Path) -> None:
    """As `dvc checkout data/dir/file`: only the named files, the rest left as it is."""
    _make_outputs(repo)
    shutil.rmtree(repo / "data" / "sub")
    write(repo / "data" / "a.bin", b"edited, not committed")
    restored = run_gitml("checkout", "data/sub", cwd=repo)
    assert "data/sub/b.txt" in restored.stdout
    assert read_tree(repo / "data" / "sub") == {
        k[len("sub/") :]: v for k, v in FILES.items() if k.startswith("sub/")
    }
    assert (repo / "data" / "a.bin").read_bytes() == b"edited, not committed"
    refused = run_gitml("checkout", "data/a.bin", cwd=repo, check=False)
    assert_user_error(refused, "data/a.bin", "uncommitted changes")
    assert (repo / "data" / "a.bin").read_bytes() == b"edited, not committed"
    run_gitml("checkout", "--force", "a.bin", cwd=repo / "data")
    assert read_tree(repo / "data") == FILES
    unknown = run_gitml("checkout", "data/nope", cwd=repo, check=False)
    assert_user_error(unknown, "data/nope", "not in tracked directory data")
    verify_cache(repo)


def test_checkout_follows_git_checkout(repo: Path) -> None:
    write(repo / "model.bin", b"weights v1")
    write(repo / "data" / "x", b"x1")
    write(repo / "data" / "old", b"only in v1")
    run_gitml("add", "model.bin", "data", cwd=repo)
    _commit(repo, "v1")
    write(repo / "model.bin", b"weights v2 longer")
    write(repo / "data" / "x", b"x2")
    (repo / "data" / "old").unlink()
    write(repo / "data" / "new", b"only in v2")
    run_gitml("commit", cwd=repo)
    _commit(repo, "v2")

    git("checkout", "-q", "HEAD~1", cwd=repo)
    run_gitml("checkout", cwd=repo)
    assert (repo / "model.bin").read_bytes() == b"weights v1"
    assert read_tree(repo / "data") == {"x": b"x1", "old": b"only in v1"}

    git("checkout", "-q", "main", cwd=repo)
    run_gitml("checkout", cwd=repo)
    assert (repo / "model.bin").read_bytes() == b"weights v2 longer"
    assert read_tree(repo / "data") == {"x": b"x2", "new": b"only in v2"}
    verify_cache(repo)


def test_checkout_refuses_to_overwrite_uncommitted_changes(repo: Path) -> None:
    _make_outputs(repo)
    write(repo / "model.bin", b"precious unsaved work")
    result = run_gitml("checkout", cwd=repo, check=False)
    assert_user_error(result, "model.bin", "--force")
    assert (repo / "model.bin").read_bytes() == b"precious unsaved work"
    run_gitml("checkout", "--force", cwd=repo)
    assert (repo / "model.bin").read_bytes() == b"weights v1"


def test_checkout_refusal_changes_nothing_anywhere(repo: Path) -> None:
    _make_outputs(repo)
    (repo / "tool").unlink()
    write(repo / "data" / "a.bin", b"unsaved edit inside the dir")
    result = run_gitml("checkout", cwd=repo, check=False)
    assert_user_error(result, "a.bin")
    assert not (repo / "tool").exists()  # refused before any change
    assert (repo / "data" / "a.bin").read_bytes() == b"unsaved edit inside the dir"
    run_gitml("checkout", "-f", cwd=repo)
    assert read_tree(repo / "data") == FILES
    assert (repo / "tool").exists()


def test_checkout_dir_removes_extra_files_only_when_cached(repo: Path) -> None:
    _make_outputs(repo)
    # An extra file whose bytes are in the cache (same content as model.bin) is safe to drop.
    write(repo / "data" / "copy-of-model", b"weights v1")
    write(repo / "data" / "a.bin", b"modified but cached? no")
    (repo / "data" / "a.bin").unlink()
    run_gitml("checkout", cwd=repo)
    assert read_tree(repo / "data") == FILES
    # An extra file that exists nowhere else is kept unless --force.
    write(repo / "data" / "sub" / "notes.txt", b"my notes")
    (repo / "data" / "a.bin").unlink()
    assert_user_error(run_gitml("checkout", cwd=repo, check=False), "notes.txt")
    assert (repo / "data" / "sub" / "notes.txt").read_bytes() == b"my notes"
    assert not (repo / "data" / "a.bin").exists()
    run_gitml("checkout", "--force", cwd=repo)
    assert read_tree(repo / "data") == FILES


def test_checkout_replaces_file_with_dir_and_back(repo: Path) -> None:
    _make_outputs(repo)
    shutil.rmtree(repo / "data")
    write(repo / "data", b"a file where the dir was")
    assert_user_error(run_gitml("checkout", cwd=repo, check=False), "data")
    run_gitml("checkout", "--force", cwd=repo)
    assert read_tree(repo / "data") == FILES


def test_checkout_restores_executable_bit_only(repo: Path) -> None:
    _make_outputs(repo)
    (repo / "tool").chmod(0o644)
    (repo / "data" / "run.sh").chmod(0o644)
    run_gitml("checkout", cwd=repo)
    assert os.stat(repo / "tool").st_mode & stat.S_IXUSR
    assert os.stat(repo / "data" / "run.sh").st_mode & stat.S_IXUSR


def test_checkout_missing_object_fails(repo: Path) -> None:
    write(repo / "f", b"f")
    write(repo / "g", b"g")
    run_gitml("add", "f", "g", cwd=repo)
    (repo / "f").unlink()
    (repo / "g").unlink()
    object_path(repo, b3(b"f")).unlink()
    result = run_gitml("checkout", cwd=repo, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "f" in result.stderr and "not in cache" in result.stderr
    assert (repo / "g").read_bytes() == b"g"  # the rest is still restored
    assert not (repo / "f").exists()


def test_commit_rerecords_modified_output(repo: Path) -> None:
    _make_outputs(repo)
    write(repo / "model.bin", b"weights v2")
    write(repo / "data" / "sub" / "b.txt", b"hello again\n")
    result = run_gitml("commit", cwd=repo)
    assert "model.bin" in result.stdout
    assert (repo / "model.bin.gitml").read_text() == file_pointer(b"weights v2")
    objects = verify_cache(repo)
    assert b3(b"weights v2") in objects and b3(b"hello again\n") in objects
    assert b3(b"weights v1") in objects  # the old version stays in the cache
    assert run_gitml("status", "--json", cwd=repo).stdout.strip() == '{\n  "outputs": []\n}'
    again = run_gitml("commit", cwd=repo)
    assert "Nothing to commit" in again.stdout


def test_commit_of_untracked_or_deleted_output_fails(repo: Path) -> None:
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    write(repo / "other", b"o")
    assert_user_error(run_gitml("commit", "other", cwd=repo, check=False), "not tracked")
    (repo / "f").unlink()
    assert_user_error(run_gitml("commit", cwd=repo, check=False), "deleted")
    assert (repo / "f.gitml").read_text() == file_pointer(b"f")


def test_empty_directory_output_round_trips(repo: Path) -> None:
    (repo / "empty").mkdir()
    run_gitml("add", "empty", cwd=repo)
    (repo / "empty").rmdir()
    run_gitml("checkout", cwd=repo)
    assert (repo / "empty").is_dir() and os.listdir(repo / "empty") == []
    assert run_gitml("status", "--json", cwd=repo).stdout.strip() == '{\n  "outputs": []\n}'


def test_long_file_names_round_trip(repo: Path) -> None:
    """Names up to the filesystem limit must survive add, rm and checkout."""
    long_in_dir = "n" * 255
    long_output = "o" * 249  # + ".gitml" = 255 bytes, the longest name a pointer can have
    write(repo / "d" / long_in_dir, b"inside")
    write(repo / "d" / ("\u00e9" * 127), b"two-byte chars")
    write(repo / long_output, b"top")
    run_gitml("add", "d", long_output, cwd=repo)
    shutil.rmtree(repo / "d")
    (repo / long_output).unlink()
    run_gitml("checkout", cwd=repo)
    assert read_tree(repo / "d") == {long_in_dir: b"inside", "\u00e9" * 127: b"two-byte chars"}
    assert (repo / long_output).read_bytes() == b"top"
    run_gitml("mv", long_output, "short", cwd=repo)
    assert (repo / "short").read_bytes() == b"top"
