"""`.gitignore` entries: exactly the named output is ignored, checked with real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml.gitignore import add_entry, remove_entry

NAMES = [
    "plain.bin",
    "with space",
    "star*",
    "#hash",
    "!bang",
    "[br]",
    "q?",
    "back\\slash",
    "trail ",
]


def _ignored(repo: Path, names: list[str]) -> set[str]:
    proc = subprocess.run(
        ["git", "check-ignore", "-z", "--no-index", "--stdin"],
        cwd=repo,
        input="\0".join(names).encode() + b"\0",
        capture_output=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return {n.decode() for n in proc.stdout.split(b"\0") if n}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


@pytest.mark.parametrize("name", NAMES)
def test_entry_ignores_exactly_that_name(repo: Path, name: str) -> None:
    assert add_entry(repo, name)
    others = [n for n in NAMES if n != name] + ["starX", "qz", "b", "hash", "plain.bin2"]
    assert _ignored(repo, [name, *others]) == {name}
    # Only at this level: the same name in a subdirectory stays visible.
    assert _ignored(repo, [f"sub/{name}"]) == set()


def test_add_twice_is_noop_and_keeps_existing_lines(repo: Path) -> None:
    (repo / ".gitignore").write_text("# mine\n*.log\n")
    assert add_entry(repo, "data")
    before = (repo / ".gitignore").read_bytes()
    assert not add_entry(repo, "data")
    assert (repo / ".gitignore").read_bytes() == before == b"# mine\n*.log\n/data\n"


def test_add_to_file_without_final_newline(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log")
    add_entry(repo, "data")
    assert (repo / ".gitignore").read_text() == "*.log\n/data\n"


def test_remove_keeps_other_lines(repo: Path) -> None:
    (repo / ".gitignore").write_text("# mine\n/a b\n")
    add_entry(repo, "with space")
    add_entry(repo, "star*")
    assert remove_entry(repo, "with space")
    assert (repo / ".gitignore").read_text() == "# mine\n/a b\n/star\\*\n"
    assert _ignored(repo, ["with space", "star*"]) == {"star*"}
    assert not remove_entry(repo, "with space")


def test_remove_last_entry_deletes_file(repo: Path) -> None:
    add_entry(repo, "#hash")
    assert remove_entry(repo, "#hash")
    assert not (repo / ".gitignore").exists()
    assert not remove_entry(repo, "#hash")


def test_non_utf8_gitignore_is_kept(repo: Path) -> None:
    (repo / ".gitignore").write_bytes(b"caf\xe9\n")
    add_entry(repo, "data")
    assert (repo / ".gitignore").read_bytes() == b"caf\xe9\n/data\n"
    remove_entry(repo, "data")
    assert (repo / ".gitignore").read_bytes() == b"caf\xe9\n"
