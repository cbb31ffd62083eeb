"""gitml.remote.policy on memory:// (in process): small objects go up in packs, others
alone, large ones in chunks; everything comes back byte for byte."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from gitml.cache import Cache
from gitml.progress import NullProgress
from gitml.remote import policy, sizes
from gitml.remote.config import RemoteConfig
from gitml.remote.pool import Item
from gitml.remote.store import open_remote

KiB = 1024


def test_upload_all_packs_small_objects_and_chunks_large_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sizes, "PACK_MAX", 4 * KiB)
    monkeypatch.setattr(sizes, "PACK_SIZE", 16 * KiB)
    monkeypatch.setattr(sizes, "CHUNK_MIN", 2048 * KiB)
    store = open_remote(RemoteConfig("m", f"memory://gitml-{uuid.uuid4().hex}/s"), tmp_path)
    store.prepare_write()
    cache = Cache(tmp_path / "cache")
    blobs = [os.urandom(1000 + i) for i in range(40)] + [os.urandom(64 * KiB)]
    blobs.append(os.urandom(3 * 1024 * KiB))
    items = [Item(cache.add_bytes(b), len(b), f"data/{i}") for i, b in enumerate(blobs)]
    small, alone, large = items[:40], items[40], items[41]

    outcome = policy.upload_all(store, cache, items, NullProgress(), "Push", chunk=True)

    assert outcome.failed == [] and set(outcome.done) == set(items)
    packed = {oid for index in store.live_packs().values() for oid in index.entries}
    assert {i.oid for i in small} <= packed
    assert len(store.live_packs()) > 3  # ~40 KiB of small objects in packs of ~16 KiB
    assert set(store.iter_oids()) == {alone.oid}
    assert set(store.iter_chunked()) == {large.oid}

    fresh = Cache(tmp_path / "fresh")
    back = policy.download_all(store, fresh, items, NullProgress(), "Fetch")
    assert back.failed == [] and len(back.done) == len(items)
    for item, data in zip(items, blobs, strict=True):
        assert fresh.read_bytes(item.oid) == data


def test_without_chunking_a_large_object_goes_up_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sizes, "CHUNK_MIN", 8 * KiB)
    store = open_remote(RemoteConfig("m", f"memory://gitml-{uuid.uuid4().hex}/s"), tmp_path)
    store.prepare_write()
    cache = Cache(tmp_path / "cache")
    data = os.urandom(2048 * KiB)
    item = Item(cache.add_bytes(data), len(data), "model.bin")
    outcome = policy.upload_all(store, cache, [item], NullProgress(), "Push", chunk=False)
    assert outcome.done == [item]
    assert set(store.iter_oids()) == {item.oid} and set(store.iter_chunked()) == set()
