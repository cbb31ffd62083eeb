"""Stat cache: trusted only on an identical (inode, mtime_ns, size) and outside the racy window."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gitml.hashing import Oid
from gitml.state import StateDB, racy_wait_ns

OID = Oid("ef" * 32)
SECOND = 1_000_000_000


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(b"hello world")
    # A fine-grained mtime well in the past, so the entry is trusted.
    os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    return path


def _db(tmp_path: Path) -> StateDB:
    return StateDB(tmp_path / "state.db")


def _record(tmp_path: Path, path: Path, now_ns: int | None = None) -> None:
    db = _db(tmp_path)
    db.put("data.bin", os.stat(path), OID, now_ns=now_ns)
    db.save()


def test_hit_on_identical_stat_after_reload(tmp_path: Path, data: Path) -> None:
    _record(tmp_path, data)
    assert _db(tmp_path).get("data.bin", os.stat(data)) == OID


def test_unknown_path_misses(tmp_path: Path, data: Path) -> None:
    _record(tmp_path, data)
    assert _db(tmp_path).get("other.bin", os.stat(data)) is None


def test_miss_on_changed_mtime(tmp_path: Path, data: Path) -> None:
    _record(tmp_path, data)
    st = os.stat(data)
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert _db(tmp_path).get("data.bin", os.stat(data)) is None


def test_miss_on_changed_size(tmp_path: Path, data: Path) -> None:
    _record(tmp_path, data)
    st = os.stat(data)
    data.write_bytes(b"hello world!")
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(data).st_mtime_ns == st.st_mtime_ns
    assert _db(tmp_path).get("data.bin", os.stat(data)) is None


def test_miss_on_changed_inode(tmp_path: Path, data: Path) -> None:
    _record(tmp_path, data)
    st = os.stat(data)
    replacement = tmp_path / "replacement"
    shutil.copyfile(data, replacement)
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, data)
    new = os.stat(data)
    assert (new.st_size, new.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert new.st_ino != st.st_ino
    assert _db(tmp_path).get("data.bin", new) is None


def test_racy_entry_untrusted(tmp_path: Path, data: Path) -> None:
    mtime = os.stat(data).st_mtime_ns
    _record(tmp_path, data, now_ns=mtime + 10_000_000)  # 10 ms after the write
    assert _db(tmp_path).get("data.bin", os.stat(data)) is None
    # Recorded again later, the entry becomes trusted.
    _record(tmp_path, data, now_ns=mtime + SECOND)
    assert _db(tmp_path).get("data.bin", os.stat(data)) == OID


def test_whole_second_mtime_gets_wide_racy_window(tmp_path: Path, data: Path) -> None:
    os.utime(data, ns=(1_700_000_000 * SECOND, 1_700_000_000 * SECOND))
    mtime = os.stat(data).st_mtime_ns
    _record(tmp_path, data, now_ns=mtime + SECOND)
    assert _db(tmp_path).get("data.bin", os.stat(data)) is None
    _record(tmp_path, data, now_ns=mtime + 3 * SECOND)
    assert _db(tmp_path).get("data.bin", os.stat(data)) == OID


def test_just_written_file_untrusted_with_real_clock(tmp_path: Path) -> None:
    path = tmp_path / "fresh"
    path.write_bytes(b"x")
    db = _db(tmp_path)
    db.put("fresh", os.stat(path), OID)
    assert db.get("fresh", os.stat(path)) is None


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a database at all" * 10, b"", b"SQLite format 3\x00" + b"\xff" * 200],
)
def test_corrupt_db_is_treated_as_empty(tmp_path: Path, data: Path, garbage: bytes) -> None:
    (tmp_path / "state.db").write_bytes(garbage)
    db = _db(tmp_path)
    assert db.get("data.bin", os.stat(data)) is None
    db.put("data.bin", os.stat(data), OID)
    db.save()
    assert _db(tmp_path).get("data.bin", os.stat(data)) == OID


def test_truncated_real_db_is_treated_as_empty(tmp_path: Path, data: Path) -> None:
    db = _db(tmp_path)
    for i in range(300):
        db.put(f"f{i:04d}", os.stat(data), OID)
    db.save()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"state.db{suffix}").unlink(missing_ok=True)
    raw = (tmp_path / "state.db").read_bytes()
    (tmp_path / "state.db").write_bytes(raw[: len(raw) // 2])
    fresh = _db(tmp_path)
    found = [fresh.get(f"f{i:04d}", os.stat(data)) for i in range(300)]
    # Either a clean miss or the real value: never a wrong id and never an exception.
    assert all(v in (None, OID) for v in found)
    fresh.put("data.bin", os.stat(data), OID)
    fresh.save()
    assert _db(tmp_path).get("data.bin", os.stat(data)) == OID


def test_complete_manifest_is_remembered_per_shard_digest(tmp_path: Path) -> None:
    now = 1_700_000_100 * SECOND
    db = _db(tmp_path)
    db.put_complete(OID, "shards-a", newest_mtime_ns=now - 10 * SECOND, now_ns=now)
    db.save()
    again = _db(tmp_path)
    assert again.is_complete(OID, "shards-a")
    assert not again.is_complete(OID, "shards-b")  # an object added or removed since
    assert not again.is_complete(Oid("01" * 32), "shards-a")


def test_complete_manifest_not_remembered_when_a_shard_changed_just_now(tmp_path: Path) -> None:
    now = 1_700_000_100 * SECOND
    db = _db(tmp_path)
    db.put_complete(OID, "shards-a", newest_mtime_ns=now - 1_000_000, now_ns=now)
    db.save()
    assert not _db(tmp_path).is_complete(OID, "shards-a")


def test_racy_wait_is_what_is_left_of_the_fine_window() -> None:
    now = 1_700_000_000 * SECOND + 123_456_789
    assert racy_wait_ns(now - 10 * SECOND - 5, now) == 0
    assert racy_wait_ns(now - 20_000_000, now) == 30_000_000  # 20 ms into a 50 ms window
    assert racy_wait_ns(now, now) == 50_000_000


def test_racy_wait_gives_up_on_whole_second_timestamps() -> None:
    now = 1_700_000_000 * SECOND + 500_000_000
    assert racy_wait_ns(1_700_000_000 * SECOND, now) is None  # git's 2 s window: not waited
    assert racy_wait_ns(1_690_000_000 * SECOND, now) == 0
