"""`gitml add`: pointers, .gitignore entries, cache objects, and every refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.helpers import (
    assert_user_error,
    b3,
    dir_pointer,
    file_pointer,
    manifest_bytes,
    object_path,
    porcelain,
    verify_cache,
)
from tests.conftest import git, run_gitml, write


def test_add_file(repo: Path) -> None:
    data = os.urandom(3000)
    write(repo / "model.bin", data)
    result = run_gitml("add", "model.bin", cwd=repo)
    assert result.stderr == ""
    assert (repo / "model.bin.gitml").read_text() == file_pointer(data)
    assert (repo / ".gitignore").read_text() == "/model.bin\n"
    assert (repo / "model.bin").read_bytes() == data
    objects = verify_cache(repo)
    assert set(objects) == {b3(data)}
    assert objects[b3(data)].read_bytes() == data
    seen = porcelain(repo)
    assert "model.bin.gitml" in seen and ".gitignore" in seen
    assert "model.bin" not in seen


def test_add_executable_file(repo: Path) -> None:
    write(repo / "run.sh", b"#!/bin/sh\necho hi\n").chmod(0o755)
    run_gitml("add", "run.sh", cwd=repo)
    assert (repo / "run.sh.gitml").read_text() == file_pointer(b"#!/bin/sh\necho hi\n", True)


def test_add_nested_directory(repo: Path) -> None:
    files = {"a.csv": b"1,2\n", "sub/b.bin": os.urandom(500), "sub/deep/c": b"", "run.sh": b"x"}
    for name, data in files.items():
        write(repo / "proj" / "data" / name, data)
    (repo / "proj" / "data" / "run.sh").chmod(0o755)
    (repo / "proj" / "data" / "empty").mkdir()
    run_gitml("add", "proj/data", cwd=repo)
    pointer = (repo / "proj" / "data.gitml").read_text()
    assert pointer == dir_pointer(files, frozenset({"run.sh"}))
    assert (repo / "proj" / ".gitignore").read_text() == "/data\n"
    assert not (repo / ".gitignore").exists()
    objects = verify_cache(repo)
    manifest = manifest_bytes(files, frozenset({"run.sh"}))
    assert objects[b3(manifest)].read_bytes() == manifest
    for data in files.values():
        assert objects[b3(data)].read_bytes() == data
    assert set(objects) == {b3(manifest)} | {b3(d) for d in files.values()}
    assert porcelain(repo) >= {"proj/data.gitml", "proj/.gitignore"}
    assert not any(p.startswith("proj/data/") for p in porcelain(repo))


def test_add_several_and_absolute_path(repo: Path) -> None:
    write(repo / "a", b"A")
    write(repo / "b", b"B")
    run_gitml("add", "a", str(repo / "b"), cwd=repo)
    assert (repo / ".gitignore").read_text() == "/a\n/b\n"
    assert (repo / "b.gitml").read_text() == file_pointer(b"B")


def test_readd_unchanged_is_noop(repo: Path) -> None:
    write(repo / "d" / "x", b"x")
    write(repo / "f", b"f")
    run_gitml("add", "d", "f", cwd=repo)
    stamps = {p: os.stat(repo / p).st_mtime_ns for p in ("d.gitml", "f.gitml", ".gitignore")}
    contents = {p: (repo / p).read_bytes() for p in stamps}
    again = run_gitml("add", "d", "f", cwd=repo)
    assert "Unchanged" in again.stdout
    assert "git add" not in again.stdout
    for p, stamp in stamps.items():
        assert os.stat(repo / p).st_mtime_ns == stamp, p
        assert (repo / p).read_bytes() == contents[p]


def test_add_names_with_special_characters(repo: Path) -> None:
    names = ["my data.bin", "star*", "#notes", "!bang"]
    for name in names:
        write(repo / name, name.encode())
    write(repo / "starX", b"unrelated")
    run_gitml("add", *names, cwd=repo)
    seen = porcelain(repo)
    assert not set(names) & seen
    assert "starX" in seen
    assert {f"{n}.gitml" for n in names} <= seen


@pytest.fixture
def tracked_dir(repo: Path) -> Path:
    write(repo / "data" / "x", b"x")
    run_gitml("add", "data", cwd=repo)
    return repo


REFUSALS = {
    "outside": ("../outside.bin", "outside the workspace"),
    "absolute outside": ("/etc/hostname", "outside the workspace"),
    "in .git": (".git/config", ".git"),
    ".git itself": (".git", ".git"),
    "in .gitml": (".gitml/config", ".gitml"),
    "nonexistent": ("nope.bin", "no such file"),
    "pointer": ("data.gitml", "pointer"),
    "inside tracked dir": ("data/x", "inside tracked output"),
    "workspace root": (".", "workspace root"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_add_refuses(tracked_dir: Path, case: str) -> None:
    repo = tracked_dir
    write(repo.parent / "outside.bin", b"o")
    path, needle = REFUSALS[case]
    before = porcelain(repo)
    cache_before = verify_cache(repo)
    result = run_gitml("add", path, cwd=repo, check=False)
    assert_user_error(result, needle)
    assert porcelain(repo) == before
    assert verify_cache(repo) == cache_before
    assert not (repo.parent / "outside.bin.gitml").exists()


def test_add_refuses_symlink(repo: Path) -> None:
    write(repo / "real.bin", b"r")
    (repo / "link.bin").symlink_to("real.bin")
    assert_user_error(run_gitml("add", "link.bin", cwd=repo, check=False), "symlink")
    assert not (repo / "link.bin.gitml").exists()


def test_add_refuses_through_symlinked_dir_leading_outside(repo: Path, tmp_path: Path) -> None:
    write(tmp_path / "elsewhere" / "f", b"f")
    (repo / "ext").symlink_to(tmp_path / "elsewhere")
    result = run_gitml("add", "ext/f", cwd=repo, check=False)
    assert_user_error(result, "outside the workspace")
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["f"]


def test_add_refuses_directory_containing_tracked_output(tracked_dir: Path) -> None:
    repo = tracked_dir
    write(repo / "top" / "inner", b"i")
    run_gitml("add", "top/inner", cwd=repo)
    assert_user_error(run_gitml("add", "top", cwd=repo, check=False), "contains tracked output")


def test_add_refuses_file_tracked_by_git(repo: Path) -> None:
    write(repo / "code.py", b"print(1)\n")
    write(repo / "src" / "m.py", b"x = 1\n")
    git("add", "code.py", "src", cwd=repo)
    for path in ("code.py", "src"):
        result = run_gitml("add", path, cwd=repo, check=False)
        assert_user_error(result, "tracked by git")
        assert not (repo / f"{path}.gitml").exists()
    assert not (repo / ".gitignore").exists()


def test_add_refuses_name_with_newline(repo: Path) -> None:
    """A name that cannot be written into a pointer path or .gitignore line is refused."""
    write(repo / "a\nb", b"x")
    result = run_gitml("add", "a\nb", cwd=repo, check=False)
    assert_user_error(result)
    assert not (repo / ".gitignore").exists()
    assert not (repo / "a\nb.gitml").exists()


def test_add_refuses_directory_with_nested_git_repo(repo: Path) -> None:
    write(repo / "data" / "f", b"f")
    write(repo / "data" / ".git" / "HEAD", b"ref: refs/heads/main\n")
    result = run_gitml("add", "data", cwd=repo, check=False)
    assert_user_error(result, ".git")
    assert not (repo / "data.gitml").exists()


def test_add_refuses_directory_with_unrepresentable_names(repo: Path) -> None:
    write(repo / "data" / "ok", b"f")
    write(repo / "data" / os.fsdecode(b"caf\xe9"), b"latin-1 name")
    result = run_gitml("add", "data", cwd=repo, check=False)
    assert_user_error(result, "data/")
    assert not (repo / "data.gitml").exists()


def test_added_pointer_survives_git_roundtrip(repo: Path) -> None:
    write(repo / "f", b"content")
    run_gitml("add", "f", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "track f", cwd=repo)
    assert git("ls-files", cwd=repo).split() == [
        ".gitignore",
        ".gitml/.gitignore",
        ".gitml/config",
        "f.gitml",
    ]
    assert object_path(repo, b3(b"content")).read_bytes() == b"content"


def test_add_refuses_when_git_would_ignore_the_pointer(repo: Path) -> None:
    """Pointers are found through git; a git-ignored pointer would be lost silently."""
    write(repo / ".gitignore", "data/\n*.gitml\n!keep/*.gitml\n")
    write(repo / "data" / "x", b"x")
    write(repo / "y", b"y")
    write(repo / "keep" / "z", b"z")
    assert_user_error(run_gitml("add", "data/x", cwd=repo, check=False), "ignored by git")
    assert_user_error(run_gitml("add", "y", cwd=repo, check=False), "y.gitml")
    assert not (repo / "data" / "x.gitml").exists() and not (repo / "y.gitml").exists()
    assert (repo / ".gitignore").read_text() == "data/\n*.gitml\n!keep/*.gitml\n"
    run_gitml("add", "keep/z", cwd=repo)
    assert "keep/z.gitml" in porcelain(repo)


def test_add_file_over_the_mmap_threshold(repo: Path) -> None:
    data = os.urandom(5 * 1024 * 1024 + 3)
    write(repo / "big.bin", data)
    run_gitml("add", "big.bin", cwd=repo)
    assert (repo / "big.bin.gitml").read_text() == file_pointer(data)
    assert verify_cache(repo)[b3(data)].read_bytes() == data


def test_add_big_file_edited_in_place_keeps_both_versions(repo: Path) -> None:
    first = os.urandom(5 * 1024 * 1024)
    write(repo / "big.bin", first)
    run_gitml("add", "big.bin", cwd=repo)
    second = os.urandom(len(first))  # same size: hashed first, then copied into the cache
    write(repo / "big.bin", second)
    run_gitml("add", "big.bin", cwd=repo)
    assert (repo / "big.bin.gitml").read_text() == file_pointer(second)
    objects = verify_cache(repo)
    assert objects[b3(first)].read_bytes() == first
    assert objects[b3(second)].read_bytes() == second


def test_add_directory_of_big_files_with_one_content_twice(repo: Path) -> None:
    same = os.urandom(6 * 1024 * 1024 + 1)
    other = os.urandom(4 * 1024 * 1024)
    write(repo / "data" / "a.bin", same)
    write(repo / "data" / "b" / "copy.bin", same)
    write(repo / "data" / "c.bin", other)
    run_gitml("add", "data", cwd=repo)
    objects = verify_cache(repo)
    assert {b3(same), b3(other)} <= set(objects)
    assert objects[b3(same)].read_bytes() == same
    assert not list((repo / ".gitml" / "cache" / "tmp").iterdir())
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."


def test_counts_are_singular_for_one(repo: Path) -> None:
    """'1 file', never '1 files': in add's summary, in ls, and in what gc says."""
    write(repo / "one" / "only.txt", b"x" * 3)
    write(repo / "two" / "a", b"a")
    write(repo / "two" / "b", b"b")
    added = run_gitml("add", "one", "two", cwd=repo).stdout
    assert "Added one (1 file, 3 B)" in added and "Added two (2 files, 2 B)" in added
    listing = run_gitml("ls", cwd=repo).stdout
    assert "one/  (1 file)" in listing and "two/  (2 files)" in listing
    write(repo / "solo.txt", b"s")
    run_gitml("add", "solo.txt", cwd=repo)
    run_gitml("rm", "solo.txt", cwd=repo)
    asked = run_gitml("gc", "--workspace", cwd=repo, check=False)
    assert "gc would delete 1 cache object (1 B)" in asked.stderr
    removed = run_gitml("gc", "--workspace", "-f", cwd=repo).stdout
    assert "Removed 1 object (1 B) from the cache." in removed
