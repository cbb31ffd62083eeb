"""Link types from `.gitml/config` and the safety of hardlinked workspace files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import b3, object_path, read_tree, verify_cache
from tests.conftest import run_gitml, write

FILES = {"a": b"alpha", "s/b": b"bravo", "s/c": b"charlie"}


def _set_link_type(repo: Path, link_type: str) -> None:
    write(repo / ".gitml" / "config", f'[cache]\ntype = ["{link_type}"]\n')


def _status(repo: Path) -> list[dict[str, object]]:
    outputs: list[dict[str, object]] = json.loads(run_gitml("status", "--json", cwd=repo).stdout)[
        "outputs"
    ]
    return outputs


def _add_and_remove(repo: Path) -> None:
    for name, data in FILES.items():
        write(repo / "d" / name, data)
    write(repo / "f", b"file")
    run_gitml("add", "d", "f", cwd=repo)
    shutil.rmtree(repo / "d")
    (repo / "f").unlink()
    run_gitml("checkout", cwd=repo)


def test_hardlink_checkout(repo: Path) -> None:
    _set_link_type(repo, "hardlink")
    _add_and_remove(repo)
    for name, data in ({"d/" + k: v for k, v in FILES.items()} | {"f": b"file"}).items():
        path = repo / name
        assert path.read_bytes() == data
        assert os.stat(path).st_ino == os.stat(object_path(repo, b3(data))).st_ino, name
    assert _status(repo) == []
    assert "Unchanged" in run_gitml("add", "f", cwd=repo).stdout
    verify_cache(repo)


def test_hardlink_add_links_workspace_file(repo: Path) -> None:
    _set_link_type(repo, "hardlink")
    write(repo / "f", b"linked at add")
    run_gitml("add", "f", cwd=repo)
    assert os.stat(repo / "f").st_ino == os.stat(object_path(repo, b3(b"linked at add"))).st_ino
    assert _status(repo) == []


def test_symlink_checkout(repo: Path) -> None:
    _set_link_type(repo, "symlink")
    _add_and_remove(repo)
    for name, data in ({"d/" + k: v for k, v in FILES.items()} | {"f": b"file"}).items():
        path = repo / name
        assert path.is_symlink(), name
        assert path.resolve() == object_path(repo, b3(data)).resolve()
        assert path.read_bytes() == data
    assert _status(repo) == []
    assert "Unchanged" in run_gitml("add", "d", "f", cwd=repo).stdout
    verify_cache(repo)


def test_copy_checkout_is_private(repo: Path) -> None:
    _set_link_type(repo, "copy")
    _add_and_remove(repo)
    assert read_tree(repo / "d") == FILES
    assert os.stat(repo / "f").st_ino != os.stat(object_path(repo, b3(b"file"))).st_ino
    assert os.access(repo / "f", os.W_OK)
    assert _status(repo) == []


def _overwrite_in_place(path: Path, data: bytes) -> None:
    """What a careless tool running as root does: ignore the 0444 bit and write."""
    mode = os.stat(path).st_mode
    os.chmod(path, mode | 0o200)  # as root this is not even needed; be explicit for non-root
    with open(path, "r+b") as handle:
        handle.write(data)
    os.chmod(path, mode)


@pytest.fixture
def hardlinked(repo: Path) -> Path:
    _set_link_type(repo, "hardlink")
    _add_and_remove(repo)
    return repo


def test_hardlink_edit_in_place_detected_by_status(hardlinked: Path) -> None:
    repo = hardlinked
    _overwrite_in_place(repo / "f", b"FILE")
    [item] = _status(repo)
    assert (item["path"], item["state"]) == ("f", "modified")
    objects = verify_cache(repo)
    assert b3(b"file") not in objects  # the corrupt object was dropped, not kept


def test_hardlink_edit_in_dir_detected_by_status(hardlinked: Path) -> None:
    repo = hardlinked
    _overwrite_in_place(repo / "d" / "s" / "b", b"BRAVO")
    assert _status(repo) == [{"path": "d", "state": "modified", "modified": ["s/b"]}]
    assert b3(b"bravo") not in verify_cache(repo)


def test_hardlink_edit_in_place_then_add(hardlinked: Path) -> None:
    repo = hardlinked
    _overwrite_in_place(repo / "f", b"FILE")
    run_gitml("add", "f", cwd=repo)
    objects = verify_cache(repo)
    assert b3(b"FILE") in objects and b3(b"file") not in objects
    assert _status(repo) == []


def test_hardlink_edit_in_dir_then_add_drops_the_edited_object(hardlinked: Path) -> None:
    repo = hardlinked
    _overwrite_in_place(repo / "d" / "s" / "b", b"BRAVO")
    run_gitml("add", "d", cwd=repo)
    objects = verify_cache(repo)
    assert b3(b"BRAVO") in objects and b3(b"bravo") not in objects
    assert _status(repo) == []


def test_hardlink_edit_in_place_then_checkout_force(hardlinked: Path) -> None:
    """checkout must not serve the edited bytes as the old version."""
    repo = hardlinked
    _overwrite_in_place(repo / "f", b"FILE")
    _overwrite_in_place(repo / "d" / "a", b"ALPHA")
    result = run_gitml("checkout", "--force", cwd=repo, check=False)
    assert "Traceback" not in result.stderr
    verify_cache(repo)
    # Whatever checkout did, nothing claims the old ids with wrong bytes.
    if (repo / "f").exists() and result.returncode == 0:
        assert (repo / "f").read_bytes() == b"file"
    assert result.returncode == 1 and "not in cache" in result.stderr
    statuses = {item["path"]: item["state"] for item in _status(repo)}
    assert statuses["f"] in ("modified", "not in cache", "deleted")


def test_hardlink_edit_in_place_then_plain_checkout(hardlinked: Path) -> None:
    repo = hardlinked
    _overwrite_in_place(repo / "d" / "s" / "c", b"CHARLIE")
    result = run_gitml("checkout", cwd=repo, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (repo / "d" / "s" / "c").read_bytes() == b"CHARLIE"  # the user's edit survives
    assert b3(b"charlie") not in verify_cache(repo)


@pytest.mark.parametrize("link_type", ["hardlink", "symlink"])
def test_linked_outputs_keep_their_executable_bits(repo: Path, link_type: str) -> None:
    """A link shares the object's mode; same bytes with different x bits must both be right."""
    _set_link_type(repo, link_type)
    write(repo / "plain", b"#!/bin/sh\n")
    write(repo / "tool", b"#!/bin/sh\n").chmod(0o755)
    write(repo / "d" / "plain", b"#!/bin/sh\n")
    write(repo / "d" / "tool", b"#!/bin/sh\n").chmod(0o755)
    run_gitml("add", "plain", "tool", "d", cwd=repo)
    assert _status(repo) == []
    for p in ("plain", "tool"):
        (repo / p).unlink()
    shutil.rmtree(repo / "d")
    run_gitml("checkout", cwd=repo)
    for p in ("plain", "d/plain"):
        assert not os.access(repo / p, os.X_OK), p
    for p in ("tool", "d/tool"):
        assert os.access(repo / p, os.X_OK), p
    assert _status(repo) == []
    assert "up to date" in run_gitml("checkout", cwd=repo).stdout
    verify_cache(repo)
