"""FolderFS keeps the LocalFileSystem semantics RemoteStore relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.remote.folder import FolderFS


def test_writes_create_parents_and_reads_return_ranges(tmp_path: Path) -> None:
    fs = FolderFS()
    target = f"{tmp_path}/a/b/obj"
    fs.pipe_file(target, b"0123456789")
    assert Path(target).read_bytes() == b"0123456789"
    assert fs.cat_file(target) == b"0123456789"
    assert fs.cat_file(target, start=2, end=5) == b"234"
    assert fs.cat_file(target, start=8) == b"89"
    assert fs.cat_file(target, start=-3) == b"789"
    assert fs.cat_file(target, start=5, end=50) == b"56789"


def test_missing_paths(tmp_path: Path) -> None:
    fs = FolderFS()
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{tmp_path}/nope")
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{tmp_path}/nope")
    assert fs.find(f"{tmp_path}/nope") == []
    assert not fs.exists(f"{tmp_path}/nope")


def test_listing_is_full_paths_files_only_when_recursive(tmp_path: Path) -> None:
    fs = FolderFS()
    for name in ("x/1", "x/y/2", "x/y/z/3"):
        fs.pipe_file(f"{tmp_path}/{name}", b"")
    assert fs.ls(f"{tmp_path}/x") == [f"{tmp_path}/x/1", f"{tmp_path}/x/y"]
    assert fs.find(f"{tmp_path}/x") == [
        f"{tmp_path}/x/1",
        f"{tmp_path}/x/y/2",
        f"{tmp_path}/x/y/z/3",
    ]


def test_copy_move_and_remove(tmp_path: Path) -> None:
    fs = FolderFS()
    source = tmp_path / "src"
    source.write_bytes(b"payload")
    fs.put_file(str(source), f"{tmp_path}/r/obj")
    fs.get_file(f"{tmp_path}/r/obj", f"{tmp_path}/back/obj")
    assert (tmp_path / "back" / "obj").read_bytes() == b"payload"
    fs.pipe_file(f"{tmp_path}/r/tmp", b"new")
    fs.mv(f"{tmp_path}/r/tmp", f"{tmp_path}/r/obj")
    assert (tmp_path / "r" / "obj").read_bytes() == b"new"
    assert not (tmp_path / "r" / "tmp").exists()
    fs.rm([f"{tmp_path}/r/obj", f"{tmp_path}/back"])
    assert not (tmp_path / "r" / "obj").exists() and not (tmp_path / "back").exists()
    with pytest.raises(FileNotFoundError):
        fs.rm_file(f"{tmp_path}/r/obj")
    with fs.open(f"{tmp_path}/w/new", "wb") as stream:
        stream.write(b"w")
    assert fs.unstrip_protocol(f"{tmp_path}/w/new") == f"file://{tmp_path}/w/new"
