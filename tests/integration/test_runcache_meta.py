"""Run metadata in run-cache entries: outside the key, and entries written before it
existed stay readable."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from gitml.cache import Cache
from gitml.pipeline import runcache
from tests.integration.test_runcache import make_entry


def test_meta_rides_along_outside_the_key(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = make_entry(cache, 0.1)
    meta = {"host": "h", "started": "2026-01-01T00:00:00Z", "duration_s": 1.5}
    key, oid = runcache.save(cache, entry, meta)
    assert key == runcache.key_of_entry(entry)
    data = cache.read_bytes(oid)
    assert runcache.parse_meta(data, "x") == meta
    hit = runcache.lookup(cache, key)
    assert hit is not None and hit.entry == entry and hit.entry_oid == oid


def test_entries_without_meta_read_the_same(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = make_entry(cache, 0.2)
    old = runcache.render(entry)
    assert b"meta" not in old
    assert runcache.parse(old, "old") == entry
    assert runcache.parse_meta(old, "old") == {}
    key, oid = runcache.save(cache, entry)
    assert runcache.check_entry(cache.read_bytes(oid), oid, key) == entry


def test_claim_makes_a_second_runner_wait(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    order: list[str] = []

    def second() -> None:
        with runcache.claim(cache, "ab" * 32):
            order.append("second")

    with runcache.claim(cache, "ab" * 32):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        order.append("first done")
    thread.join(10)
    assert order == ["first done", "second"]
    assert list(runcache.iter_markers(cache)) == []  # claims are not run markers
