"""`gitml status` (text and --json)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tests.cli.helpers import b3, object_path
from tests.conftest import run_gitml, write


def status_json(repo: Path, *args: str, cwd: Path | None = None) -> list[dict[str, Any]]:
    result = run_gitml("status", "--json", *args, cwd=cwd or repo)
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert set(doc) == {"outputs"}
    outputs: list[dict[str, Any]] = doc["outputs"]
    return outputs


def test_clean(repo: Path) -> None:
    write(repo / "f", b"f")
    write(repo / "d" / "x", b"x")
    run_gitml("add", "f", "d", cwd=repo)
    assert status_json(repo) == []
    assert "up to date" in run_gitml("status", cwd=repo).stdout


def test_empty_workspace_is_clean(repo: Path) -> None:
    assert status_json(repo) == []


def test_modified_file(repo: Path) -> None:
    write(repo / "f", b"one")
    run_gitml("add", "f", cwd=repo)
    write(repo / "f", b"two")
    assert status_json(repo) == [{"path": "f", "state": "modified"}]
    text = run_gitml("status", cwd=repo).stdout
    assert "modified" in text and "f" in text


def test_same_size_rewrite_is_seen(repo: Path) -> None:
    """A same-size rewrite right after add must not hide behind the stat cache."""
    write(repo / "f", b"aaaa")
    run_gitml("add", "f", cwd=repo)
    run_gitml("status", cwd=repo)
    write(repo / "f", b"bbbb")
    assert status_json(repo) == [{"path": "f", "state": "modified"}]


def test_executable_bit_change_is_modified(repo: Path) -> None:
    write(repo / "f", b"x")
    run_gitml("add", "f", cwd=repo)
    (repo / "f").chmod(0o755)
    assert status_json(repo) == [{"path": "f", "state": "modified"}]


def test_modified_dir_lists_changes(repo: Path) -> None:
    for name in ("keep", "change", "gone", "sub/gone2"):
        write(repo / "d" / name, name.encode())
    run_gitml("add", "d", cwd=repo)
    write(repo / "d" / "change", b"changed!")
    (repo / "d" / "gone").unlink()
    shutil.rmtree(repo / "d" / "sub")
    write(repo / "d" / "new" / "file", b"new")
    assert status_json(repo) == [
        {
            "path": "d",
            "state": "modified",
            "added": ["new/file"],
            "modified": ["change"],
            "deleted": ["gone", "sub/gone2"],
        }
    ]
    text = run_gitml("status", cwd=repo).stdout
    for needle in ("added: new/file", "modified: change", "deleted: gone", "deleted: sub/gone2"):
        assert needle in text


def test_deleted(repo: Path) -> None:
    write(repo / "f", b"f")
    write(repo / "d" / "x", b"x")
    run_gitml("add", "f", "d", cwd=repo)
    (repo / "f").unlink()
    shutil.rmtree(repo / "d")
    assert status_json(repo) == [
        {"path": "d", "state": "deleted"},
        {"path": "f", "state": "deleted"},
    ]


def test_kind_changed(repo: Path) -> None:
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    (repo / "f").unlink()
    write(repo / "f" / "inner", b"i")
    [item] = status_json(repo)
    assert (item["path"], item["state"]) == ("f", "modified")


def test_not_in_cache(repo: Path) -> None:
    write(repo / "f", b"f")
    write(repo / "d" / "x", b"x")
    run_gitml("add", "f", "d", cwd=repo)
    object_path(repo, b3(b"f")).unlink()
    object_path(repo, b3(b"x")).unlink()
    assert status_json(repo) == [
        {"path": "d", "state": "not in cache"},
        {"path": "f", "state": "not in cache"},
    ]


def test_status_limited_to_paths_and_from_subdir(repo: Path) -> None:
    write(repo / "a" / "f", b"1")
    write(repo / "b", b"2")
    run_gitml("add", "a/f", "b", cwd=repo)
    write(repo / "a" / "f", b"changed")
    write(repo / "b", b"changed")
    assert status_json(repo, "b") == [{"path": "b", "state": "modified"}]
    assert status_json(repo, "f", cwd=repo / "a") == [{"path": "a/f", "state": "modified"}]


def test_malformed_pointer_reported_by_name(repo: Path) -> None:
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    write(repo / "f.gitml", b"gitml-pointer: 1\nkind: blob\n")
    result = run_gitml("status", "--json", cwd=repo, check=False)
    assert result.returncode == 1
    assert "f.gitml" in result.stderr
    [item] = json.loads(result.stdout)["outputs"]
    assert item["state"] == "error" and "f.gitml" in item["message"]


def test_touch_without_change_is_clean(repo: Path) -> None:
    write(repo / "f", b"same")
    write(repo / "d" / "x", b"same too")
    run_gitml("add", "f", "d", cwd=repo)
    for p in (repo / "f", repo / "d" / "x"):
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert status_json(repo) == []


def test_quiet_status_prints_nothing_and_exits_1_when_something_changed(repo: Path) -> None:
    write(repo / "model.bin", b"v1")
    run_gitml("add", "model.bin", cwd=repo)
    clean = run_gitml("status", "-q", cwd=repo)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    write(repo / "model.bin", b"v2")
    changed = run_gitml("status", "-q", cwd=repo, check=False)
    assert (changed.returncode, changed.stdout, changed.stderr) == (1, "", "")
