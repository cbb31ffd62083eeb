"""Scanning a tracked directory: names a manifest reader would reject are refused up front."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitml.cache import Cache
from gitml.errors import PathError
from gitml.manifest import parse_manifest
from gitml.progress import NullProgress
from gitml.scan import observe
from gitml.state import StateDB


def _observe(tmp_path: Path) -> bytes:
    observed = observe(
        "data",
        tmp_path / "data",
        Cache(tmp_path / "cache"),
        StateDB(tmp_path / "state.db"),
        NullProgress(),
    )
    assert observed.manifest is not None
    return observed.manifest.render()


def test_scan_records_what_the_reader_accepts(tmp_path: Path) -> None:
    for name in ("plain", "with space", "sub/\u00e9t\u00e9", "x.gitml", ".gitignore", "sub/a:b"):
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    data = _observe(tmp_path)
    manifest = parse_manifest(data, "m")
    assert [e.relpath for e in manifest] == sorted(
        ["plain", "with space", "sub/\u00e9t\u00e9", "x.gitml", ".gitignore", "sub/a:b"],
        key=str.encode,
    )


@pytest.mark.parametrize(
    "name", [b"a\nb", b"tab\there", b"back\\slash", b"caf\xe9", b".git", b".gitml", b"\x7f"]
)
def test_scan_refuses_names_the_reader_rejects(tmp_path: Path, name: bytes) -> None:
    top = tmp_path / "data" / "sub"
    top.mkdir(parents=True)
    (top / "fine").write_bytes(b"ok")
    with open(os.path.join(os.fsencode(top), name), "wb") as handle:
        handle.write(b"x")
    with pytest.raises(PathError) as info:
        _observe(tmp_path)
    message = str(info.value)
    assert message.startswith(("data/sub/", "'data/sub/"))
    assert message.isprintable()


def test_scan_refuses_nested_git_directory(tmp_path: Path) -> None:
    (tmp_path / "data" / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "data" / "repo" / ".git" / "HEAD").write_bytes(b"ref")
    with pytest.raises(PathError, match=r"data/repo/\.git"):
        _observe(tmp_path)


def test_scan_refuses_drive_like_first_component(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c:x").write_bytes(b"x")
    with pytest.raises(PathError, match="drive"):
        _observe(tmp_path)


def test_scan_accepts_colon_names_that_are_not_drives(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "1:30.csv").write_bytes(b"x")
    (tmp_path / "data" / "ab:c").write_bytes(b"y")
    rendered = _observe(tmp_path)
    assert b" 1:30.csv\n" in rendered and b" ab:c\n" in rendered
