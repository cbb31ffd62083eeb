"""`add` of a directory of COMPLETE_AFTER_ADD_FILES files or more records that every object
of it is cached, so the first `status` after it need not list the cache; an object removed
afterwards must still show as "not in cache"."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from gitml.scan import COMPLETE_AFTER_ADD_FILES
from tests.cli.helpers import b3, object_path, pointer_fields
from tests.conftest import run_gitml, write

OLD_NS = 1_600_000_000 * 10**9  # files far outside the racy window


def make_dir(top: Path, count: int) -> None:
    for i in range(count):
        path = write(top / f"d{i % 10}" / f"f{i}.txt", f"{i}\n")
        os.utime(path, ns=(OLD_NS, OLD_NS))


def complete_rows(repo: Path) -> list[str]:
    with sqlite3.connect(repo / ".gitml" / "state.db") as db:
        return [row[0] for row in db.execute("SELECT oid FROM complete")]


def status_json(repo: Path) -> object:
    return json.loads(run_gitml("status", "--json", cwd=repo).stdout)["outputs"]


def test_big_add_records_its_objects_cached_and_a_removal_still_shows(repo: Path) -> None:
    make_dir(repo / "data", COMPLETE_AFTER_ADD_FILES)
    run_gitml("add", "data", cwd=repo)
    manifest = pointer_fields(repo / "data.gitml")["oid"].removeprefix("blake3:")
    assert complete_rows(repo) == [manifest]
    assert status_json(repo) == []

    os.remove(object_path(repo, b3(b"1234\n")))
    assert status_json(repo) == [{"path": "data", "state": "not in cache"}]


def test_small_add_leaves_it_to_status(repo: Path) -> None:
    make_dir(repo / "data", 50)
    run_gitml("add", "data", cwd=repo)
    assert complete_rows(repo) == []
    os.remove(object_path(repo, b3(b"7\n")))
    assert status_json(repo) == [{"path": "data", "state": "not in cache"}]
