"""`gitml get URL PATH` through the installed command, run outside any workspace, from a
local repository and from a git URL, with a folder remote and S3."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import assert_user_error, b3, read_tree
from tests.conftest import git, run_gitml
from tests.history_repo import A_V2, D_NEW, V1_DATA, V1_MODEL, History, build
from tests.remote_layout import flip_last_byte
from tests.s3_endpoint import S3Endpoint

Configure = Callable[[Path], None]


@pytest.fixture
def folder_remote(tmp_path: Path) -> Configure:
    def configure(root: Path) -> None:
        run_gitml("remote", "add", "-d", "origin", str(tmp_path / "store"), cwd=root)

    return configure


@pytest.fixture
def s3_remote(s3_endpoint: S3Endpoint, s3_bucket: str) -> Configure:
    def configure(root: Path) -> None:
        run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/get", cwd=root)
        run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=root)

    return configure


@pytest.fixture(params=["folder", "s3"])
def pushed(request: pytest.FixtureRequest, tmp_path: Path) -> History:
    configure: Configure = request.getfixturevalue(f"{request.param}_remote")
    return build(tmp_path / "src", configure)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder that is in no git repository and no workspace."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


def bare_url(history: History, tmp_path: Path) -> str:
    """The source as a git server would serve it: a bare repository, through file://."""
    bare = tmp_path / "server.git"
    git("clone", "-q", "--bare", str(history.root), str(bare), cwd=tmp_path)
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    return f"file://{bare}"


def test_get_old_directory_from_a_git_url(pushed: History, tmp_path: Path, outside: Path) -> None:
    url = bare_url(pushed, tmp_path)
    scratch = tmp_path / "scratch"  # gitml's temporary clone goes here
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    result = run_gitml("get", url, "data", "--rev", "v1", "--json", cwd=outside, env=env)
    doc = json.loads(result.stdout)
    assert doc["files"] == 4 and doc["rev"] == "v1"
    assert read_tree(outside / "data") == V1_DATA
    assert os.access(outside / "data" / "run.sh", os.X_OK)
    assert not os.access(outside / "data" / "a.csv", os.X_OK)
    assert sorted(os.listdir(outside)) == ["data"]  # no staging left behind
    assert os.listdir(scratch) == []  # nor the temporary clone


def test_get_file_inside_a_directory_from_head(
    pushed: History, tmp_path: Path, outside: Path
) -> None:
    url = bare_url(pushed, tmp_path)
    run_gitml("get", url, "data/a.csv", "-o", "rows.csv", cwd=outside)
    assert (outside / "rows.csv").read_bytes() == A_V2
    (outside / "models").mkdir()
    run_gitml("get", url, "models/model.bin", "-o", "models", cwd=outside)
    assert (outside / "models" / "model.bin").read_bytes() == V1_MODEL


def test_get_from_a_local_repository_uses_its_cache(
    tmp_path: Path, folder_remote: Configure, outside: Path
) -> None:
    history = build(tmp_path / "src", folder_remote)
    # the remote is gone: only the source's own cache has the bytes
    for dirpath, _dirs, files in os.walk(tmp_path / "store", topdown=False):
        for name in files:
            os.unlink(Path(dirpath) / name)
    run_gitml("get", str(history.root), "data/d.csv", cwd=outside)
    assert (outside / "d.csv").read_bytes() == D_NEW
    run_gitml("get", str(history.root), "data/sub", "--rev", "v1", cwd=outside)
    assert read_tree(outside / "sub") == {"c.csv": V1_DATA["sub/c.csv"]}


def test_get_refuses_to_overwrite(pushed: History, outside: Path) -> None:
    (outside / "model.bin").write_bytes(b"mine")
    result = run_gitml(
        "get", str(pushed.root), "model.bin", "--rev", "v1", cwd=outside, check=False
    )
    assert_user_error(result, "already exists", "--force")
    assert (outside / "model.bin").read_bytes() == b"mine"
    run_gitml("get", str(pushed.root), "model.bin", "--rev", "v1", "-f", cwd=outside)
    assert (outside / "model.bin").read_bytes() == V1_MODEL


def test_get_rejects_a_corrupt_remote_object(
    tmp_path: Path, folder_remote: Configure, outside: Path
) -> None:
    history = build(tmp_path / "src", folder_remote)
    oid = b3(V1_DATA["b.csv"]).removeprefix("blake3:")
    flip_last_byte(tmp_path / "store", oid)  # inside its pack (remote format 2)
    url = bare_url(history, tmp_path)
    result = run_gitml("get", url, "data", cwd=outside, check=False)
    assert_user_error(result, "data/b.csv", "corrupt", "nothing written")
    assert os.listdir(outside) == []


def test_get_errors(pushed: History, outside: Path, tmp_path: Path) -> None:
    src = str(pushed.root)
    assert_user_error(
        run_gitml("get", src, "data/zzz.csv", cwd=outside, check=False),
        "data/zzz.csv is not in tracked directory data at HEAD",
    )
    assert_user_error(
        run_gitml("get", src, "../etc/passwd", cwd=outside, check=False), "'../etc/passwd'"
    )
    assert_user_error(
        run_gitml("get", src, "data", "--rev", "nope", cwd=outside, check=False),
        "unknown revision 'nope'",
    )
    assert_user_error(
        run_gitml("get", str(tmp_path / "missing"), "data", cwd=outside, check=False),
        "no such directory",
    )
    assert_user_error(
        run_gitml("get", f"file://{tmp_path}/missing.git", "data", cwd=outside, check=False),
        "cannot clone",
    )
    assert os.listdir(outside) == []


def test_get_from_inside_another_workspace_leaves_it_alone(pushed: History, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git("init", "-q", str(other), cwd=tmp_path)
    run_gitml("init", cwd=other)
    run_gitml("get", str(pushed.root), "more/extra.txt", cwd=other)
    assert (other / "extra.txt").is_file()
    assert not (other / ".gitml" / "cache" / "blake3").exists()
