"""fsutil.rename_noreplace: the cache's "never overwrite an object" rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import fsutil


def test_renames_when_target_is_free(tmp_path: Path) -> None:
    (tmp_path / "tmp").write_bytes(b"new")
    assert fsutil.rename_noreplace(str(tmp_path / "tmp"), str(tmp_path / "obj"))
    assert (tmp_path / "obj").read_bytes() == b"new"
    assert not (tmp_path / "tmp").exists()


def test_never_replaces_an_existing_target(tmp_path: Path) -> None:
    (tmp_path / "tmp").write_bytes(b"new")
    (tmp_path / "obj").write_bytes(b"old")
    assert not fsutil.rename_noreplace(str(tmp_path / "tmp"), str(tmp_path / "obj"))
    assert (tmp_path / "obj").read_bytes() == b"old"
    assert (tmp_path / "tmp").read_bytes() == b"new"


def test_fallback_without_renameat2_keeps_the_same_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsutil, "_renameat2", False)  # as on a kernel or libc without it
    (tmp_path / "tmp").write_bytes(b"new")
    (tmp_path / "obj").write_bytes(b"old")
    assert not fsutil.rename_noreplace(str(tmp_path / "tmp"), str(tmp_path / "obj"))
    assert (tmp_path / "obj").read_bytes() == b"old"
    assert fsutil.rename_noreplace(str(tmp_path / "tmp"), str(tmp_path / "other"))
    assert (tmp_path / "other").read_bytes() == b"new"
