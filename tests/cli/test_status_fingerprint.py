"""`gitml status` on a directory whose stat fingerprint is on record (files older than the
racy window, so the fast path is taken): every kind of change must still show."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import b3, object_path
from tests.conftest import run_gitml, write

OLD_NS = 1_600_000_000 * 10**9  # 2020: far outside the racy window


def age(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            os.utime(Path(root) / name, ns=(OLD_NS, OLD_NS))


def status_json(repo: Path) -> list[dict[str, Any]]:
    result = run_gitml("status", "--json", cwd=repo)
    outputs: list[dict[str, Any]] = json.loads(result.stdout)["outputs"]
    return outputs


@pytest.fixture
def tracked(repo: Path) -> Path:
    for i in range(30):
        write(repo / "data" / f"sub{i % 3}" / f"f{i}.txt", f"file {i}\n".encode())
    age(repo / "data")
    run_gitml("add", "data", cwd=repo)
    assert status_json(repo) == []
    with sqlite3.connect(repo / ".gitml" / "state.db") as db:
        recorded = db.execute("SELECT path FROM dir").fetchall()
    assert recorded == [("data",)], "the directory's fingerprint was not recorded"
    return repo


def test_content_edit_with_new_mtime(tracked: Path) -> None:
    write(tracked / "data" / "sub1" / "f4.txt", b"changed\n")
    assert status_json(tracked) == [
        {"path": "data", "state": "modified", "modified": ["sub1/f4.txt"]}
    ]


def test_same_size_edit_keeping_mtime_but_new_inode(tracked: Path) -> None:
    target = tracked / "data" / "sub1" / "f4.txt"
    replacement = tracked / "tmp-f4"
    write(replacement, b"file X\n")  # same size as "file 4\n"
    os.utime(replacement, ns=(OLD_NS, OLD_NS))
    os.replace(replacement, target)
    assert status_json(tracked) == [
        {"path": "data", "state": "modified", "modified": ["sub1/f4.txt"]}
    ]


def test_added_and_deleted_files(tracked: Path) -> None:
    write(tracked / "data" / "new.txt", b"new\n")
    (tracked / "data" / "sub2" / "f5.txt").unlink()
    assert status_json(tracked) == [
        {"path": "data", "state": "modified", "added": ["new.txt"], "deleted": ["sub2/f5.txt"]}
    ]


def test_executable_bit(tracked: Path) -> None:
    (tracked / "data" / "sub0" / "f3.txt").chmod(0o755)
    assert status_json(tracked)[0]["modified"] == ["sub0/f3.txt"]


def test_object_removed_from_cache(tracked: Path) -> None:
    obj = object_path(tracked, b3(b"file 7\n"))
    obj.unlink()
    assert status_json(tracked) == [{"path": "data", "state": "not in cache"}]


def test_new_commit_of_the_directory_is_seen(tracked: Path) -> None:
    """After `gitml commit` records new content, status agrees with the new pointer."""
    write(tracked / "data" / "sub0" / "f0.txt", b"v2\n")
    age(tracked / "data")
    run_gitml("commit", "data", cwd=tracked)
    assert status_json(tracked) == []
    write(tracked / "data" / "sub0" / "f0.txt", b"v3\n")
    assert status_json(tracked)[0]["modified"] == ["sub0/f0.txt"]


def age_cache(repo: Path) -> None:
    """Every shard directory of the cache older than the racy window, so a status records
    that the directory's objects are all there."""
    base = object_path(repo, b3(b"file 7\n")).parent.parent
    for shard in [base, *base.iterdir()]:
        os.utime(shard, ns=(OLD_NS, OLD_NS))


def test_object_removed_after_presence_was_recorded(tracked: Path) -> None:
    age_cache(tracked)
    assert status_json(tracked) == []
    with sqlite3.connect(tracked / ".gitml" / "state.db") as db:
        assert db.execute("SELECT count(*) FROM complete").fetchone() == (1,)
    object_path(tracked, b3(b"file 7\n")).unlink()
    assert status_json(tracked) == [{"path": "data", "state": "not in cache"}]


def test_add_again_restores_an_object_removed_from_the_cache(tracked: Path) -> None:
    age_cache(tracked)
    assert status_json(tracked) == []
    obj = object_path(tracked, b3(b"file 7\n"))
    obj.unlink()
    result = run_gitml("add", "data", cwd=tracked)
    assert "Unchanged data" in result.stdout
    assert obj.read_bytes() == b"file 7\n"
    assert status_json(tracked) == []


def test_add_again_of_an_unchanged_directory_writes_nothing(tracked: Path) -> None:
    pointer = tracked / "data.gitml"
    before = pointer.read_bytes(), pointer.stat().st_mtime_ns
    result = run_gitml("add", "data", cwd=tracked)
    assert "Unchanged data (30 files" in result.stdout
    assert (pointer.read_bytes(), pointer.stat().st_mtime_ns) == before
