"""Workspace-relative paths: validation of untrusted paths, resolution of user paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitml.errors import PathError
from gitml.paths import ensure_inside, to_workspace_relpath, validate_relpath


@pytest.mark.parametrize(
    "relpath",
    ["a", "a/b", "a b/c d", ".hidden", "a.gitml", ".gitignore", "\u00e9/\u4e2d", "..a", "a.."],
)
def test_valid_relpaths(relpath: str) -> None:
    assert validate_relpath(relpath, what="w") == relpath


@pytest.mark.parametrize(
    "relpath",
    [
        "",
        "/",
        "/abs",
        "C:x",
        "c:/x",
        "..",
        "../x",
        "a/..",
        "a/../b",
        ".",
        "./a",
        "a/.",
        "a//b",
        "a/",
        "a\\b",
        "a\nb",
        "a\x00b",
        "a\x7f",
        ".git",
        ".git/config",
        "a/.git/b",
        ".gitml",
        ".gitml/cache/x",
        "a\udcffb",  # not encodable as UTF-8
    ],
)
def test_invalid_relpaths(relpath: str) -> None:
    with pytest.raises(PathError) as info:
        validate_relpath(relpath, what="where")
    assert str(info.value).startswith("where:")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "ws"
    (r / "sub").mkdir(parents=True)
    (r / ".git").mkdir()
    (r / ".gitml").mkdir()
    return r.resolve()


def test_relative_and_absolute_user_paths(root: Path) -> None:
    assert to_workspace_relpath(root, "sub/f", cwd=root) == "sub/f"
    assert to_workspace_relpath(root, "f", cwd=root / "sub") == "sub/f"
    assert to_workspace_relpath(root, "../f", cwd=root / "sub") == "f"
    assert to_workspace_relpath(root, str(root / "sub" / "x"), cwd=Path("/")) == "sub/x"
    assert to_workspace_relpath(root, "sub/./x/", cwd=root) == "sub/x"


@pytest.mark.parametrize("path", ["..", "../x", "/etc/passwd", "sub/../../x"])
def test_outside_workspace(root: Path, path: str) -> None:
    with pytest.raises(PathError, match="outside the workspace"):
        to_workspace_relpath(root, path, cwd=root)


@pytest.mark.parametrize("path", [".", "sub/.."])
def test_workspace_root_itself(root: Path, path: str) -> None:
    with pytest.raises(PathError, match="workspace root"):
        to_workspace_relpath(root, path, cwd=root)


@pytest.mark.parametrize("path", [".git", ".git/config", ".gitml", ".gitml/cache/x", "sub/.git/x"])
def test_reserved(root: Path, path: str) -> None:
    with pytest.raises(PathError, match="does not track"):
        to_workspace_relpath(root, path, cwd=root)


def test_symlinked_parent_leading_outside(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    with pytest.raises(PathError, match="outside the workspace"):
        to_workspace_relpath(root, "escape/data.bin", cwd=root)
    with pytest.raises(PathError):
        ensure_inside(root, "escape/data.bin")


def test_symlinked_parent_inside_resolves(root: Path) -> None:
    (root / "alias").symlink_to(root / "sub")
    assert to_workspace_relpath(root, "alias/f", cwd=root) == "sub/f"
    # A symlink into .git is still refused.
    (root / "g").symlink_to(root / ".git")
    with pytest.raises(PathError):
        to_workspace_relpath(root, "g/config", cwd=root)


def test_final_symlink_component_not_followed(root: Path, tmp_path: Path) -> None:
    (root / "link").symlink_to(tmp_path)
    assert to_workspace_relpath(root, "link", cwd=root) == "link"


def test_cwd_reached_through_symlink(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias-ws"
    alias.symlink_to(root)
    assert to_workspace_relpath(root, str(alias / "sub" / "f"), cwd=Path("/")) == "sub/f"


@pytest.mark.parametrize("relpath", ["a\nb", "a\\b", "a\x01"])
def test_user_paths_that_cannot_be_recorded(root: Path, relpath: str) -> None:
    """A path that would be rejected in a pointer or manifest is refused up front."""
    with pytest.raises(PathError):
        to_workspace_relpath(root, relpath, cwd=root)


def test_non_utf8_user_path(root: Path) -> None:
    with pytest.raises(PathError):
        to_workspace_relpath(root, os.fsdecode(b"a\xff"), cwd=root)


def test_ensure_inside(root: Path) -> None:
    assert ensure_inside(root, "sub/f") == root / "sub" / "f"
    assert ensure_inside(root, "new/deep/f") == root / "new" / "deep" / "f"
