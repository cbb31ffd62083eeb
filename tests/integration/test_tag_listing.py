"""The registry's tag listing against real git: however git is asked (one process or one
per part of the tag names), every tag comes back exactly once, in name order."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml.errors import GitError
from gitml.registry import state

NAMES = [
    "churn@v1.0.0",
    "churn@v1.0.1",
    "churn#prod#1",
    "churn#prod!#2",
    "team/fraud@v0.1.0",  # nested under refs/tags/team/
    "team/fraud#dev#3",
    "dir=model@v2.0.0",
    "release-é",  # ends in a non-ASCII byte
    "model@deprecated#4",
    "plain",
]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q",
        "--allow-empty", "-m", "c")  # fmt: skip
    for name in NAMES:
        git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@e", "tag", "-a", name, "-m", "m")
    git(tmp_path, "tag", "lightweight1")
    return tmp_path


@pytest.mark.parametrize(
    "parts", [state._PARTS, (["refs/tags"],)], ids=["two-processes", "one-process"]
)
def test_every_tag_listed_once_in_name_order(
    repo: Path, parts: tuple[list[str], ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "_PARTS", parts)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    records = state.TagListing(repo).records()
    names = [r.name for r in records]
    expected = sorted([*NAMES, "lightweight1"], key=str.encode)
    assert names == expected
    assert [r.name for r in records if not r.annotated] == ["lightweight1"]


def test_a_failing_git_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="git for-each-ref failed"):
        state.TagListing(tmp_path).records()  # not a repository
