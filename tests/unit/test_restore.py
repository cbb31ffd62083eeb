"""gitml.restore.unsaved: the one "would this lose data?" check."""

from __future__ import annotations

import os
from pathlib import Path

from gitml.cache import Cache
from gitml.hashing import hash_bytes
from gitml.restore import unsaved
from gitml.scan import ObservedFile


def _file(tmp_path: Path, name: str, data: bytes) -> ObservedFile:
    path = tmp_path / "ws" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return ObservedFile(name, str(path), os.lstat(path), oid=hash_bytes(data))


def test_only_bytes_that_are_in_no_cache_count_as_lost(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    kept = _file(tmp_path, "kept", b"in the cache")
    cache.add_bytes(b"in the cache", hash_bytes(b"in the cache"))
    same = _file(tmp_path, "same", b"what is wanted")
    edited = _file(tmp_path, "edited", b"a user's edit")
    torn = _file(tmp_path, "torn", b"half writ")
    wanted = {"kept": hash_bytes(b"other"), "same": hash_bytes(b"what is wanted")}
    files = [kept, same, edited, torn]
    assert unsaved(cache, files, wanted, leftovers={"torn"}) == ["edited"]
    assert unsaved(cache, files, wanted, leftovers=set()) == ["edited", "torn"]


def test_a_link_holds_no_bytes_of_its_own(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x")
    link = tmp_path / "ws" / "link"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    observed = ObservedFile("link", str(link), os.lstat(link))
    assert unsaved(cache, [observed], {}, set()) == []


def test_a_directory_where_a_file_goes_counts_as_lost(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    folder = tmp_path / "ws" / "dir"
    folder.mkdir(parents=True)
    observed = ObservedFile("dir", str(folder), os.lstat(folder))
    assert unsaved(cache, [observed], {"dir": hash_bytes(b"x")}, set()) == ["dir"]
