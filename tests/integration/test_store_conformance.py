"""One storage conformance suite, run against a local folder, memory:// and S3 (moto server)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from gitml.cache import Cache
from gitml.errors import IntegrityError, ObjectNotFoundError, RemoteFormatError
from gitml.hashing import Oid, hash_bytes
from gitml.remote import FORMAT, MARKER, SMALL_MAX, RemoteStore, open_remote
from gitml.remote_config import RemoteConfig
from tests.s3_endpoint import S3Endpoint

BACKENDS = ["folder", "memory", "s3"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteStore:
    kind = request.param
    if kind == "folder":
        config = RemoteConfig("conf", str(tmp_path / "remote"))
    elif kind == "memory":
        config = RemoteConfig("conf", f"memory://gitml-{uuid.uuid4().hex}/store")
    else:
        endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
        bucket = endpoint.new_bucket()
        config = RemoteConfig("conf", f"s3://{bucket}/some/prefix", {"endpoint_url": endpoint.url})
    return open_remote(config, tmp_path)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def _cached(cache: Cache, data: bytes) -> tuple[Oid, Path]:
    oid = cache.add_bytes(data)
    return oid, Path(cache.path(oid))


def _big(size: int, seed: int) -> bytes:
    block = hash_bytes(seed.to_bytes(4, "big")).hexdigest.encode() * 2048  # 128 KiB
    data = (block * (size // len(block) + 1))[:size]
    return data[:-8] + seed.to_bytes(8, "big")


def _fetch_into_fresh_cache(store: RemoteStore, tmp_path: Path, oid: Oid, size: int) -> Cache:
    fresh = Cache(tmp_path / f"fresh-{uuid.uuid4().hex[:6]}")
    store.download(oid, size, fresh, lambda n: None, "data/x")
    return fresh


def test_empty_store_has_no_marker_and_no_objects(store: RemoteStore, cache: Cache) -> None:
    if store.protocol == "file":
        os.makedirs(store.root)
    oid, _ = _cached(cache, b"never uploaded")
    assert store.read_format() is None
    assert store.present({oid}) == set()
    assert list(store.iter_oids()) == []


def test_first_write_creates_format_marker(store: RemoteStore) -> None:
    store.prepare_write()
    assert store.read_format() == FORMAT
    raw = store.fs.cat_file(f"{store.root}/{MARKER}")
    assert json.loads(raw) == {"format": 1}
    store.prepare_write()  # idempotent
    assert store.read_format() == FORMAT


def test_small_objects_round_trip_and_listing(
    store: RemoteStore, cache: Cache, tmp_path: Path
) -> None:
    store.prepare_write()
    blobs = [f"object number {i}\n".encode() * (i + 1) for i in range(40)]
    oids = []
    for data in blobs:
        oid, path = _cached(cache, data)
        store.upload(oid, path, len(data), lambda n: None)
        oids.append(oid)
    absent, _ = _cached(cache, b"not uploaded")
    # many shards: one listing of the store; few shards: per-shard listings
    assert store.present({*oids, absent}) == set(oids)
    assert store.present({oids[0], absent}) == {oids[0]}
    assert set(store.iter_oids()) == set(oids)
    fresh = Cache(tmp_path / "fresh")
    for oid, data in zip(oids, blobs, strict=True):
        store.download(oid, len(data), fresh, lambda n: None)
        assert Path(fresh.path(oid)).read_bytes() == data
    assert store.read_object(oids[3]) == blobs[3]


def test_large_object_round_trip_in_parts(store: RemoteStore, cache: Cache, tmp_path: Path) -> None:
    # above SMALL_MAX and above two S3 parts, so S3 uses a multipart upload
    data = _big(17 * 1024 * 1024 + 123, seed=1)
    oid, path = _cached(cache, data)
    store.prepare_write()
    moved: list[int] = []
    store.upload(oid, path, len(data), moved.append)
    assert sum(moved) == len(data)
    assert store.present({oid}) == {oid}
    fresh = _fetch_into_fresh_cache(store, tmp_path, oid, len(data))
    assert Path(fresh.path(oid)).read_bytes() == data
    assert os.listdir(fresh.tmp_dir) == []


@pytest.mark.parametrize("size", [100, SMALL_MAX + 10])
def test_corrupt_remote_object_never_enters_the_cache(
    store: RemoteStore, cache: Cache, tmp_path: Path, size: int
) -> None:
    data = _big(size, seed=2)
    oid, path = _cached(cache, data)
    store.prepare_write()
    store.upload(oid, path, len(data), lambda n: None)
    bad = bytearray(data)
    bad[size // 2] ^= 0xFF
    target = store.object_path(oid)
    if store.protocol == "file":
        os.chmod(target, 0o644)
    store.fs.pipe_file(target, bytes(bad))
    fresh = Cache(tmp_path / "fresh")
    with pytest.raises(IntegrityError) as caught:
        store.download(oid, len(data), fresh, lambda n: None, "data/x")
    assert str(oid) in str(caught.value)
    assert "remote 'conf'" in str(caught.value)
    assert not fresh.exists(oid)
    assert not fresh.tmp_dir.exists() or os.listdir(fresh.tmp_dir) == []


def test_missing_object_is_named(store: RemoteStore, cache: Cache, tmp_path: Path) -> None:
    store.prepare_write()
    oid, _ = _cached(cache, b"only local")
    with pytest.raises(ObjectNotFoundError) as caught:
        store.download(oid, 10, Cache(tmp_path / "fresh"), lambda n: None, "data/y")
    assert str(oid) in str(caught.value) and "data/y" in str(caught.value)
    big_oid, _ = _cached(cache, _big(SMALL_MAX + 1, seed=3))
    with pytest.raises(ObjectNotFoundError):
        store.download(big_oid, SMALL_MAX + 1, Cache(tmp_path / "f2"), lambda n: None)


def test_corrupt_cache_object_is_not_uploaded(store: RemoteStore, cache: Cache) -> None:
    store.prepare_write()
    for size in (50, SMALL_MAX + 50):
        data = _big(size, seed=size)
        oid, path = _cached(cache, data)
        os.chmod(path, 0o644)
        path.write_bytes(b"X" + data[1:])
        with pytest.raises(IntegrityError):
            store.upload(oid, path, size, lambda n: None)
        assert store.present({oid}) == set()


def test_newer_format_is_refused(store: RemoteStore, cache: Cache) -> None:
    store.prepare_write()
    store.fs.pipe_file(f"{store.root}/{MARKER}", b'{"format": 2}\n')
    store._format_checked = False
    oid, _ = _cached(cache, b"x")
    with pytest.raises(RemoteFormatError, match="uses format 2"):
        store.present({oid})
    with pytest.raises(RemoteFormatError):
        store.prepare_write()


def test_malformed_marker_is_refused(store: RemoteStore) -> None:
    store.prepare_write()
    store.fs.pipe_file(f"{store.root}/{MARKER}", b"not json")
    with pytest.raises(RemoteFormatError, match="malformed"):
        store.read_format()


def test_temp_and_foreign_files_are_not_objects(store: RemoteStore, cache: Cache) -> None:
    store.prepare_write()
    oid, path = _cached(cache, b"real object")
    store.upload(oid, path, path.stat().st_size, lambda n: None)
    shard_dir = store.object_path(oid).rsplit("/", 1)[0]
    store.fs.pipe_file(f"{shard_dir}/.tmp-0123456789abcdef", b"partial")
    store.fs.pipe_file(f"{store.root}/objects/README", b"hello")
    assert set(store.iter_oids()) == {oid}


def test_remove(store: RemoteStore, cache: Cache) -> None:
    store.prepare_write()
    oid, path = _cached(cache, b"to be removed")
    store.upload(oid, path, path.stat().st_size, lambda n: None)
    store.remove([oid])
    assert store.present({oid}) == set()


def test_directory_records(store: RemoteStore, cache: Cache) -> None:
    store.prepare_write()
    first, _ = _cached(cache, b"manifest one")
    second, _ = _cached(cache, b"manifest two")
    assert store.complete_dirs({first, second}) == set()
    store.mark_complete(first)
    assert store.complete_dirs({first, second}) == {first}
    # a record is not an object
    assert store.present({first}) == set()
    store.unmark_complete([first])
    assert store.complete_dirs({first}) == set()
