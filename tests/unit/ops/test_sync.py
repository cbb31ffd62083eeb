"""What push, fetch, pull and status --remote decide to move, run in-process against
memory:// remotes (real git, real cache; no subprocess per command)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from gitml.errors import PathError
from gitml.hashing import hash_bytes
from gitml.ops.add import add
from gitml.ops.pull import fetch, pull
from gitml.ops.push import push
from gitml.ops.remote_status import remote_status
from gitml.ops.sync import cached_manifest, plan_objects, workspace_targets
from gitml.repo import open_store
from gitml.workspace import Workspace

FILES = {"a.bin": b"alpha" * 100, "b.bin": b"bravo" * 100, "sub/c.bin": b"charlie" * 100}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace tracking `data/` (three files) and `model.bin`, with a fresh memory://
    remote as its default."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    workspace, _ = Workspace.init(root)
    with open(workspace.gitml_dir / "config", "a", encoding="utf-8") as config:
        url = f"memory://gitml-test-{uuid.uuid4().hex}/store"
        config.write(f'\n[core]\nremote = "mem"\n\n[remote.mem]\nurl = "{url}"\n')
    for name, data in FILES.items():
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "model.bin").write_bytes(b"weights" * 50)
    add(workspace, [str(root / "data"), str(root / "model.bin")])
    return Workspace(root)


def _drop(ws: Workspace, data: bytes) -> None:
    """Lose one object from the local cache."""
    os.unlink(ws.cache.path(hash_bytes(data)))


def _remote_has(ws: Workspace, data: bytes) -> bool:
    return hash_bytes(data) in open_store(ws, None).present([hash_bytes(data)])


def test_push_sends_each_object_once_then_nothing(ws: Workspace) -> None:
    first = push(ws)
    # three files, the directory manifest and the model
    assert (len(first.transferred), first.already, first.failed) == (5, 0, [])
    assert all(_remote_has(ws, data) for data in FILES.values())
    again = push(ws)
    # data/ is recorded complete on the remote: its files are not even looked up
    assert (len(again.transferred), again.already) == (0, 2)


def test_push_of_a_file_inside_a_directory_sends_it_and_the_manifest_only(
    ws: Workspace,
) -> None:
    result = push(ws, user_paths=[str(ws.root / "data" / "a.bin")])
    assert sorted(i.label for i in result.transferred) == ["data", "data/a.bin"]
    assert _remote_has(ws, FILES["a.bin"]) and not _remote_has(ws, FILES["b.bin"])
    status = remote_status(ws)
    lacking = {o.path: o.missing for o in status.outputs}
    assert lacking == {"data": 2, "model.bin": 1}  # b.bin and sub/c.bin; the model


def test_push_reports_objects_missing_from_the_cache_and_the_remote(ws: Workspace) -> None:
    _drop(ws, FILES["b.bin"])
    result = push(ws)
    assert result.not_in_cache == ["data/b.bin"]
    assert not result.ok
    # the manifest waits until every file of the directory is up
    assert "data" not in [i.label for i in result.transferred]


def test_fetch_downloads_only_what_the_cache_lacks(ws: Workspace) -> None:
    push(ws)
    for name in ("a.bin", "sub/c.bin"):
        _drop(ws, FILES[name])
    result = fetch(ws, run_cache=False)
    assert sorted(i.label for i in result.transferred) == ["data/a.bin", "data/sub/c.bin"]
    assert result.failed == []
    assert ws.cache.exists(hash_bytes(FILES["a.bin"]))


def test_fetch_names_objects_the_remote_does_not_have(ws: Workspace) -> None:
    push(ws, user_paths=[str(ws.root / "data" / "a.bin")])
    _drop(ws, FILES["b.bin"])
    result = fetch(ws, run_cache=False)
    assert [path for path, _ in result.failed] == ["data/b.bin"]
    assert "is not on remote 'mem'" in result.failed[0][1]


def test_pull_of_one_file_restores_it_and_leaves_its_siblings(ws: Workspace) -> None:
    push(ws)
    data = ws.root / "data"
    (data / "a.bin").unlink()
    (data / "b.bin").unlink()
    _drop(ws, FILES["a.bin"])
    result = pull(ws, user_paths=[str(data / "a.bin")], run_cache=False)
    assert result.restored == ["data/a.bin"]
    assert (data / "a.bin").read_bytes() == FILES["a.bin"]
    assert not (data / "b.bin").exists()


def test_pull_refuses_to_overwrite_an_edit_whose_bytes_are_nowhere(ws: Workspace) -> None:
    from gitml.errors import DirtyWorkspaceError

    push(ws)
    edited = ws.root / "data" / "a.bin"
    edited.write_bytes(b"my unsaved edit")
    with pytest.raises(DirtyWorkspaceError, match="uncommitted changes would be overwritten"):
        pull(ws, user_paths=[str(edited)], run_cache=False)
    assert edited.read_bytes() == b"my unsaved edit"


def test_planning_a_selection_inside_a_directory(ws: Workspace) -> None:
    targets = workspace_targets(ws, [str(ws.root / "data" / "sub")])
    assert [(t.path, t.subpaths) for t in targets] == [("data", ("sub",))]
    plan = plan_objects(targets, cached_manifest(ws))
    assert [i.label for i in plan.files.values()] == ["data/sub/c.bin"]
    assert list(plan.by_output) == ["data"]
    assert plan.whole_dirs == set()  # a part of a directory never vouches for all of it


def test_a_path_that_is_not_tracked_is_named(ws: Workspace) -> None:
    with pytest.raises(PathError, match="elsewhere is not tracked by gitml"):
        workspace_targets(ws, [str(ws.root / "elsewhere")])
    with pytest.raises(PathError, match="data/nope is not in tracked directory data"):
        plan_objects(workspace_targets(ws, [str(ws.root / "data" / "nope")]), cached_manifest(ws))
