"""Scanning a tracked directory: names a manifest reader would reject are refused up front."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gitml import scan as scan_module
from gitml.cache import Cache
from gitml.errors import PathError
from gitml.hashing import hash_bytes
from gitml.manifest import parse_manifest
from gitml.pointer import Pointer
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


def test_record_complete_skips_when_the_cache_changes_during_its_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    state = StateDB(tmp_path / "state.db")
    manifest = hash_bytes(b"manifest")
    cache.add_hashed_bytes(b"manifest", manifest)  # a shard written just now: racy
    pointer = Pointer("dir", manifest, 8, nfiles=scan_module.COMPLETE_AFTER_ADD_FILES)

    real_sleep = time.sleep

    def sleep_while_another_process_writes(seconds: float) -> None:
        real_sleep(seconds)
        other = hash_bytes(b"written meanwhile")
        cache.add_hashed_bytes(b"written meanwhile", other)
        # as if written at the start of the wait: no longer racy when the wait ends
        settled = time.time_ns() - 10**9
        for changed in (Path(cache.path(other)).parent, Path(cache.path(other)).parent.parent):
            os.utime(changed, ns=(settled, settled))

    monkeypatch.setattr("gitml.scan.time.sleep", sleep_while_another_process_writes)
    scan_module.record_complete(cache, state, pointer)
    state.save()
    digest = cache.shards_digest()
    assert digest is not None and not StateDB(tmp_path / "state.db").is_complete(
        manifest, digest[0]
    )
