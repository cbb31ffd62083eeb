"""Untrusted pointers and manifests: one-line errors, nothing written outside the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.helpers import assert_user_error, b3, read_tree, write_object
from tests.conftest import git, run_gitml, write


def _snapshot(top: Path, skip: Path) -> dict[str, bytes]:
    """Every file under `top` except the workspace itself."""
    return {k: v for k, v in read_tree(top).items() if not (top / k).is_relative_to(skip)}


def _hostile_dir_pointer(repo: Path, relpath: str, manifest_lines: list[str]) -> str:
    body = "".join(
        f"{b3(b'pwned')} 5 - {line}\n" for line in sorted(manifest_lines, key=str.encode)
    )
    manifest = b"gitml-manifest 1\n" + body.encode()
    oid = write_object(repo, manifest)
    write_object(repo, b"pwned")
    n = len(manifest_lines)
    write(
        repo / f"{relpath}.gitml",
        f"gitml-pointer: 1\nkind: dir\noid: {oid}\nsize: {5 * n}\nnfiles: {n}\n",
    )
    return oid


@pytest.mark.parametrize(
    "entry",
    [
        "../escape",
        "../../escape",
        "ok/../../escape",
        "/ABS/escape",
        ".git/hooks/post-checkout",
        "..\\escape",
        "sub/.gitml/config",
    ],
)
def test_hostile_manifest_entry(repo: Path, tmp_path: Path, entry: str) -> None:
    entry = entry.replace("/ABS", str(tmp_path))
    before = _snapshot(tmp_path, repo)
    hooks = sorted(os.listdir(repo / ".git" / "hooks"))
    oid = _hostile_dir_pointer(repo, "data", [entry])
    for args in (["checkout"], ["checkout", "--force"], ["checkout", "data"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert_user_error(result, oid)
    assert _snapshot(tmp_path, repo) == before
    assert not (tmp_path / "escape").exists() and not (repo.parent / "escape").exists()
    assert sorted(os.listdir(repo / ".git" / "hooks")) == hooks
    assert not (repo / "data").exists()


def test_hostile_manifest_next_to_good_output_is_named(repo: Path) -> None:
    write(repo / "good", b"g")
    run_gitml("add", "good", cwd=repo)
    (repo / "good").unlink()
    _hostile_dir_pointer(repo, "evil", ["../x"])
    write(repo / "evil" / "y", b"y")
    result = run_gitml("status", "--json", cwd=repo, check=False)
    assert result.returncode == 1
    assert '"error"' in result.stdout and "manifest" in result.stdout
    assert "manifest" in result.stderr
    assert '"deleted"' in result.stdout  # the good output is still reported


def test_manifest_that_does_not_hash_to_its_id(repo: Path) -> None:
    real = b"gitml-manifest 1\n"
    oid = b3(real)
    path = repo / ".gitml" / "cache" / "blake3" / oid[7:9] / oid[9:]
    write(path, b"gitml-manifest 1\n" + f"{b3(b'x')} 1 - a\n".encode())
    write(repo / "d.gitml", f"gitml-pointer: 1\nkind: dir\noid: {oid}\nsize: 0\nnfiles: 0\n")
    assert_user_error(run_gitml("checkout", cwd=repo, check=False), oid)
    assert not (repo / "d" / "a").exists()


def test_pointer_size_disagreeing_with_manifest(repo: Path) -> None:
    write(repo / "d" / "x", b"xyz")
    run_gitml("add", "d", cwd=repo)
    text = (repo / "d.gitml").read_text()
    (repo / "d.gitml").write_text(text.replace("nfiles: 1", "nfiles: 7"))
    os.unlink(repo / "d" / "x")
    assert_user_error(run_gitml("checkout", cwd=repo, check=False), "d.gitml")


@pytest.mark.parametrize(
    "pointer",
    [
        b"garbage\n",
        b"gitml-pointer: 1\nkind: file\noid: blake3:1234\nsize: 1\n",
        b"gitml-pointer: 9\nkind: file\n",
        b"\x00\xff\xfe",
        b"gitml-pointer: 1\r\nkind: file\r\n",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 3\n",
    ],
)
def test_malformed_pointer_names_the_file(repo: Path, pointer: bytes) -> None:
    write(repo / "sub" / "model.bin.gitml", pointer)
    for args in (["checkout"], ["checkout", "-f", "sub/model.bin"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert_user_error(result, "sub/model.bin.gitml")
    assert not (repo / "sub" / "model.bin").exists()
    write(repo / "sub" / "model.bin", b"data")
    for args in (
        ["checkout", "--force"],
        ["commit"],
        ["add", "sub/model.bin"],
        ["rm", "sub/model.bin"],
    ):
        result = run_gitml(*args, cwd=repo, check=False)
        assert_user_error(result, "sub/model.bin.gitml")
    assert (repo / "sub" / "model.bin").read_bytes() == b"data"
    assert (repo / "sub" / "model.bin.gitml").read_bytes() == pointer


def test_pointer_for_reserved_path(repo: Path) -> None:
    """`.gitml.gitml` would describe `.gitml/` itself; `x/.git.gitml` a `.git` dir."""
    write(repo / "x" / "f", b"f")
    run_gitml("add", "x/f", cwd=repo)
    text = (repo / "x" / "f.gitml").read_text()
    for name in (".gitml.gitml", "x/.git.gitml"):
        write(repo / name, text)
        before = read_tree(repo / ".gitml" / "cache")
        config = (repo / ".gitml" / "config").read_bytes()
        result = run_gitml("checkout", "--force", cwd=repo, check=False)
        assert_user_error(result, name)
        assert read_tree(repo / ".gitml" / "cache") == before
        assert (repo / ".gitml" / "config").read_bytes() == config
        assert not (repo / "x" / ".git").exists()
        (repo / name).unlink()


def test_pointer_under_symlinked_dir_leading_outside(repo: Path, tmp_path: Path) -> None:
    """A committed pointer whose directory is later replaced by a symlink out of the workspace."""
    write(repo / "sub" / "m", b"model")
    run_gitml("add", "sub/m", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "m", cwd=repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "m.gitml").write_bytes((repo / "sub" / "m.gitml").read_bytes())
    for p in sorted((repo / "sub").iterdir()):
        p.unlink()
    (repo / "sub").rmdir()
    (repo / "sub").symlink_to(outside)
    for args in (["checkout"], ["checkout", "--force"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert_user_error(result, "outside")
    assert sorted(os.listdir(outside)) == ["m.gitml"]


def test_output_replaced_by_symlink_leading_outside(repo: Path, tmp_path: Path) -> None:
    write(repo / "d" / "x", b"x")
    run_gitml("add", "d", cwd=repo)
    for p in sorted((repo / "d").iterdir()):
        p.unlink()
    (repo / "d").rmdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (repo / "d").symlink_to(victim)
    for args in (["checkout"], ["checkout", "--force"]):
        result = run_gitml(*args, cwd=repo, check=False)
        assert_user_error(result, "symlink")
    assert os.listdir(victim) == []


def test_symlinked_subdir_inside_tracked_dir(repo: Path, tmp_path: Path) -> None:
    write(repo / "d" / "sub" / "x", b"x")
    run_gitml("add", "d", cwd=repo)
    for p in sorted((repo / "d" / "sub").iterdir()):
        p.unlink()
    (repo / "d" / "sub").rmdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (repo / "d" / "sub").symlink_to(victim)
    result = run_gitml("checkout", "--force", cwd=repo, check=False)
    assert_user_error(result, "symlink")
    assert os.listdir(victim) == []
