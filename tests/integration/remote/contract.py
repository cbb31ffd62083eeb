"""The storage contract: one set of tests every object store must pass (after dulwich's
`ObjectStoreTests`). Test modules subclass the mixins; nothing here is collected itself.

- `ObjectsContract`: what the local cache and every remote share, through an `Objects`
  adapter: put, exists, list, delete, verified reads (whole, and random access after a
  seek), a corrupt object refused on the way in and on the way out, a missing object
  named, temporary and foreign files never taken for objects.
- `RemoteContract(ObjectsContract)`: the rest of a RemoteStore: the format marker, large
  objects in parts, packs (whole and ranged reads), chunked files, repacking, directory
  records and run markers.

Adding a backend is one fixture and one subclass in
tests/integration/remote/test_store_conformance.py, e.g. GCS against a local emulator::

    class TestGCS(RemoteContract):
        @pytest.fixture
        def store(self, tmp_path: Path, gcs_endpoint: GCSEndpoint) -> RemoteStore:
            bucket = gcs_endpoint.new_bucket()
            config = RemoteConfig("conf", f"gs://{bucket}/prefix", gcs_endpoint.options)
            return open_remote(config, tmp_path)

The remote must be empty and named "conf" (messages are checked). `objects` is built
from `store` by the mixin. Tests that corrupt or plant files write through `store.fs`
at `store.root`, so the backend's filesystem must accept `pipe_file` and `cat_file`
there. A local-disk store that is not a remote gets its own `Objects` adapter (see
`CacheObjects`) and subclasses `ObjectsContract` only.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

import pytest

from gitml.cache import Cache
from gitml.errors import IntegrityError, ObjectNotFoundError, RemoteError, RemoteFormatError
from gitml.hashing import Oid, hash_bytes
from gitml.objects import ObjectSource
from gitml.remote.layout import FORMAT, MARKER
from gitml.remote.pool import Item
from gitml.remote.sizes import SMALL_MAX
from gitml.remote.store import RemoteStore

TEMP_NAME = ".tmp-0123456789abcdef"  # an upload in progress, as writers name them


class Objects(Protocol):
    """One object store as the shared contract drives it."""

    def put(self, data: bytes) -> Oid: ...

    def put_claimed(self, data: bytes, oid: Oid) -> None:
        """Store `data` under `oid` (which it may not hash to): the store must check."""
        ...

    def has(self, oids: Collection[Oid]) -> set[Oid]: ...

    def listed(self) -> set[Oid]: ...

    def delete(self, oids: Collection[Oid]) -> None: ...

    def reader(self) -> ObjectSource:
        """The verified reader gitml itself uses on this store (gitml.objects)."""
        ...

    def corrupt(self, oid: Oid) -> None:
        """Flip one byte of a stored object where it lies."""
        ...

    def plant_strays(self, oid: Oid) -> None:
        """A temporary file beside `oid` and a file with a foreign name in the store."""
        ...


class CacheObjects:
    """The local cache (gitml/cache.py) behind the `Objects` adapter."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def put(self, data: bytes) -> Oid:
        return self.cache.add_bytes(data)

    def put_claimed(self, data: bytes, oid: Oid) -> None:
        self.cache.add_bytes(data, oid)

    def has(self, oids: Collection[Oid]) -> set[Oid]:
        return set(oids) - set(self.cache.missing(list(oids)))

    def listed(self) -> set[Oid]:
        return set(self.cache.iter_oids())

    def delete(self, oids: Collection[Oid]) -> None:
        for oid in oids:
            self.cache.quarantine(oid)

    def reader(self) -> ObjectSource:
        return ObjectSource(self.cache, None)

    def corrupt(self, oid: Oid) -> None:
        _flip_middle_byte(Path(self.cache.path(oid)))

    def plant_strays(self, oid: Oid) -> None:
        shard = Path(self.cache.path(oid)).parent
        (shard / TEMP_NAME).write_bytes(b"partial")
        (shard.parent / "README").write_bytes(b"hello")


class RemoteObjects:
    """A RemoteStore behind the `Objects` adapter; objects go up from `cache`."""

    def __init__(self, store: RemoteStore, cache: Cache, tmp_path: Path) -> None:
        self.store = store
        self.cache = cache
        self.tmp_path = tmp_path
        store.prepare_write()

    def put(self, data: bytes) -> Oid:
        oid = self.cache.add_bytes(data)
        self.store.upload(oid, self.cache.path(oid), len(data), lambda n: None)
        return oid

    def put_claimed(self, data: bytes, oid: Oid) -> None:
        source = self.tmp_path / f"claimed-{uuid.uuid4().hex}"
        source.write_bytes(data)
        self.store.upload(oid, source, len(data), lambda n: None)

    def has(self, oids: Collection[Oid]) -> set[Oid]:
        return self.store.present(set(oids))

    def listed(self) -> set[Oid]:
        return set(self.store.iter_oids())

    def delete(self, oids: Collection[Oid]) -> None:
        self.store.remove(oids)

    def reader(self) -> ObjectSource:
        return ObjectSource(None, lambda: self.store)

    def corrupt(self, oid: Oid) -> None:
        path = self.store.object_path(oid)
        data = bytearray(self.store.fs.cat_file(path))
        data[len(data) // 2] ^= 0xFF
        if self.store.caps.local:
            os.chmod(path, 0o644)
        self.store.fs.pipe_file(path, bytes(data))

    def plant_strays(self, oid: Oid) -> None:
        shard = self.store.object_path(oid).rsplit("/", 1)[0]
        self.store.fs.pipe_file(f"{shard}/{TEMP_NAME}", b"partial")
        self.store.fs.pipe_file(f"{self.store.root}/objects/README", b"hello")


def _flip_middle_byte(path: Path) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _read(objects: Objects, oid: Oid, size: int, *, seek_first: bool = False) -> bytes:
    with objects.reader().open(oid, size, "data/x") as stream:
        if seek_first:  # random access: verified in full before the first byte
            stream.seek(size - 5)
            tail = stream.read()
            stream.seek(0)
            return bytes(stream.read(size - 5) + tail)
        return bytes(stream.read())


SIZES = [0, 100, SMALL_MAX + 10]  # empty, one buffer, a streamed large object


class ObjectsContract:
    """What every store of objects does: the local cache and every remote."""

    @pytest.fixture
    def objects(self) -> Objects:
        raise NotImplementedError("a subclass provides the store under test")

    @pytest.mark.parametrize("size", SIZES)
    def test_put_then_read_verified(self, objects: Objects, size: int) -> None:
        data = _big(size, seed=size) if size else b""
        oid = objects.put(data)
        assert oid == hash_bytes(data)
        assert objects.has({oid}) == {oid}
        assert _read(objects, oid, size) == data
        if size >= 5:
            assert _read(objects, oid, size, seek_first=True) == data

    def test_put_is_idempotent(self, objects: Objects) -> None:
        first = objects.put(b"same bytes")
        assert objects.put(b"same bytes") == first
        assert objects.listed() == {first}

    def test_exists_and_list_report_exactly_what_was_put(self, objects: Objects) -> None:
        blobs = [f"object {i}\n".encode() * (i + 1) for i in range(30)]
        oids = {objects.put(data) for data in blobs}
        absent = hash_bytes(b"never put")
        assert objects.has({*oids, absent}) == oids  # many shards
        few = sorted(oids)[:2]
        assert objects.has({*few, absent}) == set(few)  # a few shards
        assert objects.listed() == oids

    def test_delete(self, objects: Objects) -> None:
        kept, gone = objects.put(b"kept"), objects.put(b"deleted")
        objects.delete([gone])
        assert objects.has({kept, gone}) == {kept}
        assert objects.listed() == {kept}

    def test_missing_object_is_named(self, objects: Objects) -> None:
        absent = hash_bytes(b"never put")
        with pytest.raises(ObjectNotFoundError) as caught:
            _read(objects, absent, 9)
        assert str(absent) in str(caught.value)

    @pytest.mark.parametrize("size", SIZES[1:])
    @pytest.mark.parametrize("seek_first", [False, True])
    def test_corrupt_object_is_refused_on_read(
        self, objects: Objects, size: int, seek_first: bool
    ) -> None:
        oid = objects.put(_big(size, seed=size + 1))
        objects.corrupt(oid)
        with pytest.raises(IntegrityError) as caught:
            _read(objects, oid, size, seek_first=seek_first)
        assert str(oid) in str(caught.value)

    @pytest.mark.parametrize("size", SIZES[1:])
    def test_bytes_that_do_not_match_their_id_are_refused(
        self, objects: Objects, size: int
    ) -> None:
        good = _big(size, seed=size + 2)
        oid = hash_bytes(good)
        with pytest.raises(IntegrityError):
            objects.put_claimed(b"X" + good[1:], oid)
        assert objects.has({oid}) == set()
        assert objects.listed() == set()

    def test_temp_and_foreign_files_are_not_objects(self, objects: Objects) -> None:
        oid = objects.put(b"real object")
        objects.plant_strays(oid)
        assert objects.listed() == {oid}
        assert objects.has({oid}) == {oid}


class RemoteContract(ObjectsContract):
    """Everything a RemoteStore does, on one backend (docs/spec/remote.md)."""

    @pytest.fixture
    def store(self) -> RemoteStore:
        raise NotImplementedError("a subclass opens an empty remote named 'conf'")

    @pytest.fixture
    def cache(self, tmp_path: Path) -> Cache:
        return Cache(tmp_path / "cache")

    @pytest.fixture
    def objects(self, store: RemoteStore, cache: Cache, tmp_path: Path) -> Objects:
        return RemoteObjects(store, cache, tmp_path)

    def test_empty_store_has_no_marker_and_no_objects(
        self, store: RemoteStore, cache: Cache
    ) -> None:
        if store.caps.local:
            os.makedirs(store.root)
        oid, _ = _cached(cache, b"never uploaded")
        assert store.read_format() is None
        assert store.present({oid}) == set()
        assert list(store.iter_oids()) == []

    def test_first_write_creates_format_marker(self, store: RemoteStore) -> None:
        store.prepare_write()
        assert store.read_format() == FORMAT
        raw = store.fs.cat_file(f"{store.root}/{MARKER}")
        assert json.loads(raw) == {"format": 2}
        store.prepare_write()  # idempotent
        assert store.read_format() == FORMAT

    def test_small_objects_round_trip_and_listing(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
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

    def test_large_object_round_trip_in_parts(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
    ) -> None:
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

    def test_open_object_reads_into_a_buffer(self, store: RemoteStore, cache: Cache) -> None:
        """`gitml verify --remote` hashes the stream with readinto (sshfs's files lack it)."""
        from gitml.hashing import hash_stream

        data = _big(SMALL_MAX + 10, seed=6)
        oid, path = _cached(cache, data)
        store.prepare_write()
        store.upload(oid, path, len(data), lambda n: None)
        with store.open_object(oid) as stream:
            assert hash_stream(stream) == (oid, len(data))

    @pytest.mark.parametrize("size", [100, SMALL_MAX + 10])
    def test_corrupt_remote_object_never_enters_the_cache(
        self, store: RemoteStore, cache: Cache, tmp_path: Path, size: int
    ) -> None:
        data = _big(size, seed=2)
        oid, path = _cached(cache, data)
        store.prepare_write()
        store.upload(oid, path, len(data), lambda n: None)
        bad = bytearray(data)
        bad[size // 2] ^= 0xFF
        target = store.object_path(oid)
        if store.caps.local:
            os.chmod(target, 0o644)
        store.fs.pipe_file(target, bytes(bad))
        fresh = Cache(tmp_path / "fresh")
        with pytest.raises(IntegrityError) as caught:
            store.download(oid, len(data), fresh, lambda n: None, "data/x")
        assert str(oid) in str(caught.value)
        assert "remote 'conf'" in str(caught.value)
        assert not fresh.exists(oid)
        assert not fresh.tmp_dir.exists() or os.listdir(fresh.tmp_dir) == []

    def test_missing_object_is_named(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
    ) -> None:
        store.prepare_write()
        oid, _ = _cached(cache, b"only local")
        with pytest.raises(ObjectNotFoundError) as caught:
            store.download(oid, 10, Cache(tmp_path / "fresh"), lambda n: None, "data/y")
        assert str(oid) in str(caught.value) and "data/y" in str(caught.value)
        big_oid, _ = _cached(cache, _big(SMALL_MAX + 1, seed=3))
        with pytest.raises(ObjectNotFoundError):
            store.download(big_oid, SMALL_MAX + 1, Cache(tmp_path / "f2"), lambda n: None)

    def test_corrupt_cache_object_is_not_uploaded(self, store: RemoteStore, cache: Cache) -> None:
        store.prepare_write()
        for size in (50, SMALL_MAX + 50):
            data = _big(size, seed=size)
            oid, path = _cached(cache, data)
            os.chmod(path, 0o644)
            path.write_bytes(b"X" + data[1:])
            with pytest.raises(IntegrityError):
                store.upload(oid, path, size, lambda n: None)
            assert store.present({oid}) == set()

    def test_newer_format_is_refused(self, store: RemoteStore, cache: Cache) -> None:
        store.prepare_write()
        store.fs.pipe_file(f"{store.root}/{MARKER}", b'{"format": 4}\n')
        store._format_checked = False
        oid, _ = _cached(cache, b"x")
        with pytest.raises(RemoteFormatError, match="uses format 4"):
            store.present({oid})
        with pytest.raises(RemoteFormatError):
            store.prepare_write()

    def test_malformed_marker_is_refused(self, store: RemoteStore) -> None:
        store.prepare_write()
        store.fs.pipe_file(f"{store.root}/{MARKER}", b"not json")
        with pytest.raises(RemoteFormatError, match="malformed"):
            store.read_format()

    def test_temp_and_foreign_files_are_not_objects(self, store: RemoteStore, cache: Cache) -> None:
        store.prepare_write()
        oid, path = _cached(cache, b"real object")
        store.upload(oid, path, path.stat().st_size, lambda n: None)
        shard_dir = store.object_path(oid).rsplit("/", 1)[0]
        store.fs.pipe_file(f"{shard_dir}/.tmp-0123456789abcdef", b"partial")
        store.fs.pipe_file(f"{store.root}/objects/README", b"hello")
        assert set(store.iter_oids()) == {oid}

    def test_remove(self, store: RemoteStore, cache: Cache) -> None:
        store.prepare_write()
        oid, path = _cached(cache, b"to be removed")
        store.upload(oid, path, path.stat().st_size, lambda n: None)
        store.remove([oid])
        assert store.present({oid}) == set()

    def test_directory_records(self, store: RemoteStore, cache: Cache) -> None:
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

    def test_packs_round_trip_with_whole_and_ranged_reads(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
    ) -> None:
        blobs = [os.urandom(1000 + i) for i in range(40)]
        items = _items(cache, blobs)
        store.prepare_write()
        sent: list[int] = []
        for group in store.pack_groups(items):
            assert store.upload_pack(group, cache, sent.append) == []
        assert sum(sent) == sum(map(len, blobs))
        # a second process sees them through the indexes; nothing is loose
        other = _reopen(store)
        assert other.present({i.oid for i in items}) == {i.oid for i in items}
        batches, rest = other.pack_batches(items[:3] + items[30:31])  # a few: ranged reads
        assert rest == [] and len(batches) == 1
        fresh = Cache(tmp_path / "fresh")
        assert other.download_pack(batches[0], fresh, lambda n: None) == []
        for item in items[:3] + items[30:31]:
            assert fresh.read_bytes(item.oid) == blobs[items.index(item)]
        assert not fresh.exists(items[4].oid)
        everything, _ = other.pack_batches(items)  # all: one whole GET
        assert other.download_pack(everything[0], fresh, lambda n: None) == []
        assert all(fresh.exists(i.oid) for i in items)
        assert other.read_object(items[7].oid) == blobs[7]
        assert other.open_object(items[8].oid).read() == blobs[8]

    def test_chunked_file_round_trip_and_dedup(
        self, store: RemoteStore, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import gitml.remote.sizes as remote_module

        monkeypatch.setattr(remote_module, "CHUNK_MIN", 1024 * 1024)
        monkeypatch.setattr(remote_module, "PACK_SIZE", 2 * 1024 * 1024)
        data = os.urandom(12 * 1024 * 1024)
        oid, path = _cached(cache, data)
        store.prepare_write()
        store.upload(oid, path, len(data), lambda n: None)
        first = set(store.live_packs())
        assert store.present({oid}) == {oid}
        changed = data[: 6 * 1024 * 1024] + os.urandom(4096) + data[6 * 1024 * 1024 + 4096 :]
        oid2, path2 = _cached(cache, changed)
        store.upload(oid2, path2, len(changed), lambda n: None)
        new = {k: v for k, v in store.live_packs().items() if k not in first}
        assert sum(p.size for p in new.values()) <= 9 * 1024 * 1024  # a few chunks, not 12 MiB
        other = _reopen(store)
        for want, size, blob in ((oid, len(data), data), (oid2, len(changed), changed)):
            fresh = _fetch_into_fresh_cache(other, tmp_path, want, size)
            assert fresh.read_bytes(want) == blob
            assert os.listdir(fresh.tmp_dir) == []
            with other.open_object(want) as stream:  # streamed chunk by chunk
                assert stream.read() == blob

    def test_corrupt_pack_index_is_named(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
    ) -> None:
        items = _items(cache, [b"one", b"two"])
        store.prepare_write()
        store.upload_pack(items, cache, lambda n: None)
        (pack_id,) = store.live_packs()
        path = f"{store.root}/packs/{pack_id}.idx"
        raw = bytearray(store.fs.cat_file(path))
        raw[40] ^= 0x01
        store.fs.pipe_file(path, bytes(raw))
        other = _reopen(store)
        with pytest.raises(IntegrityError, match=f"pack index packs/{pack_id}.idx .* is corrupt"):
            other.present({items[0].oid})

    def test_repack_keeps_live_objects_and_drops_dead_ones(
        self, store: RemoteStore, cache: Cache
    ) -> None:
        blobs = [os.urandom(500 + i) for i in range(6)]
        items = _items(cache, blobs)
        store.prepare_write()
        store.upload_pack(items[:3], cache, lambda n: None)
        store.upload_pack(items[3:], cache, lambda n: None)
        keep = {items[0].oid, items[1].oid, *(i.oid for i in items[3:])}
        assert store.repack(keep) == (0, 1, 1)
        other = _reopen(store)
        assert other.present({i.oid for i in items}) == keep
        assert len(other.live_packs()) == 2
        for item in items:
            if item.oid in keep:
                assert other.read_object(item.oid) == blobs[items.index(item)]

    def test_repack_keeps_chunks_of_live_files_only(
        self, store: RemoteStore, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import gitml.remote.sizes as remote_module

        monkeypatch.setattr(remote_module, "CHUNK_MIN", 1024 * 1024)
        store.prepare_write()
        files = [os.urandom(3 * 1024 * 1024) for _ in range(2)]
        oids = []
        for data in files:
            oid, path = _cached(cache, data)
            store.upload(oid, path, len(data), lambda n: None)
            oids.append(oid)
        assert store.repack({oids[1]})[0] == 1  # the chunk list of the dead file
        other = _reopen(store)
        assert other.present(set(oids)) == {oids[1]}
        live_chunks = set(other.chunks_of(oids[1]))
        packed = {oid for index in other.live_packs().values() for oid in index.entries}
        assert packed == live_chunks
        fresh = _fetch_into_fresh_cache(other, tmp_path, oids[1], len(files[1]))
        assert fresh.read_bytes(oids[1]) == files[1]

    def test_run_markers_listed_all_at_once_or_per_key(
        self, store: RemoteStore, cache: Cache
    ) -> None:
        from gitml.pipeline.runcache import marker_relpath

        assert store.run_markers() == set()  # no runs/ folder yet
        store.prepare_write()
        keys = [hash_bytes(f"key {i}".encode()).hexdigest for i in range(3)]
        entries = [hash_bytes(f"entry {i}".encode()) for i in range(4)]
        written = {(keys[0], entries[0]), (keys[0], entries[1]), (keys[1], entries[2])}
        for key, entry in sorted(written):
            store.add_run_marker(marker_relpath(key, entry))
        # Names that are not markers are ignored (a temp file, a short name).
        store.fs.pipe_file(f"{store.root}/runs/{keys[2][:2]}/{keys[2][2:]}/.tmp-abc", b"")
        store.fs.pipe_file(f"{store.root}/runs/zz/notakey/{entries[3].hexdigest}", b"")
        assert store.run_markers() == written
        assert store.run_markers(keys[0]) == {(keys[0], entries[0]), (keys[0], entries[1])}
        assert store.run_markers(keys[2]) == set()
        assert store.fs.cat_file(f"{store.root}/{marker_relpath(keys[1], entries[2])}") == b""

    def test_download_one_packed_object(
        self, store: RemoteStore, cache: Cache, tmp_path: Path
    ) -> None:
        """`download` (one object at a time, as run-cache and gitml.api use it) finds packed
        objects too, and refuses a corrupt one."""
        blobs = [b"first packed", b"second packed"]
        items = _items(cache, blobs)
        store.prepare_write()
        store.upload_pack(items, cache, lambda n: None)
        fresh = _fetch_into_fresh_cache(_reopen(store), tmp_path, items[1].oid, len(blobs[1]))
        assert fresh.read_bytes(items[1].oid) == blobs[1]
        (pack_id,) = store.live_packs()
        path = f"{store.root}/packs/{pack_id}.pack"
        store.fs.pipe_file(path, b"X" + bytes(store.fs.cat_file(path))[1:])
        with pytest.raises(IntegrityError, match=f"packs/{pack_id}.pack"):
            _fetch_into_fresh_cache(_reopen(store), tmp_path, items[0].oid, len(blobs[0]))


# Helpers ------------------------------------------------------------------------------


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


def _items(cache: Cache, blobs: list[bytes]) -> list[Item]:
    return [Item(cache.add_bytes(b), len(b), f"data/{i}") for i, b in enumerate(blobs)]


def _reopen(store: RemoteStore) -> RemoteStore:
    """The same remote as another process sees it (no pack index in memory)."""
    return RemoteStore(store.name, store.fs, store.root, store.protocol, store.jobs)


class ReadOnlyContract:
    """The reading half of the contract, for a store that cannot write (plain HTTP): a
    writable store puts the data there (e.g. a folder remote the server serves), the store
    under test reads it back."""

    @pytest.fixture
    def stores(self) -> tuple[RemoteStore, RemoteStore]:
        """(writer, reader): two views, both named "conf", of one empty remote."""
        raise NotImplementedError("a subclass provides the writer and the reader")

    @pytest.fixture
    def cache(self, tmp_path: Path) -> Cache:
        return Cache(tmp_path / "cache")

    def test_writes_are_refused(self, stores: tuple[RemoteStore, RemoteStore]) -> None:
        _, reader = stores
        assert reader.read_only
        with pytest.raises(RemoteError, match=r"remote 'conf' .* is read-only"):
            reader.prepare_write()

    def test_marker_is_read(self, stores: tuple[RemoteStore, RemoteStore]) -> None:
        writer, reader = stores
        assert reader.read_format() is None
        writer.prepare_write()
        assert reader.read_format() == FORMAT

    def test_loose_objects_are_found_and_read_verified(
        self, stores: tuple[RemoteStore, RemoteStore], cache: Cache, tmp_path: Path
    ) -> None:
        writer, reader = stores
        writer.prepare_write()
        blobs = [b"", b"small object", _big(SMALL_MAX + 10, seed=4)]
        oids = []
        for data in blobs:
            oid, path = _cached(cache, data)
            writer.upload(oid, path, len(data), lambda n: None)
            oids.append(oid)
        absent, _ = _cached(cache, b"never uploaded")
        assert reader.present({*oids, absent}) == set(oids)
        for oid, data in zip(oids, blobs, strict=True):
            fresh = _fetch_into_fresh_cache(reader, tmp_path, oid, len(data))
            assert fresh.read_bytes(oid) == data
        assert reader.read_object(oids[1]) == blobs[1]
        with reader.open_object(oids[2]) as stream:
            assert stream.read() == blobs[2]

    @pytest.mark.parametrize("size", [100, SMALL_MAX + 10])
    def test_corrupt_object_never_enters_the_cache(
        self, stores: tuple[RemoteStore, RemoteStore], cache: Cache, tmp_path: Path, size: int
    ) -> None:
        writer, reader = stores
        data = _big(size, seed=5)
        oid, path = _cached(cache, data)
        writer.prepare_write()
        writer.upload(oid, path, size, lambda n: None)
        target = writer.object_path(oid)
        os.chmod(target, 0o644)
        writer.fs.pipe_file(target, b"X" + data[1:])
        fresh = Cache(tmp_path / "fresh")
        with pytest.raises(IntegrityError) as caught:
            reader.download(oid, size, fresh, lambda n: None, "data/x")
        assert str(oid) in str(caught.value) and "remote 'conf'" in str(caught.value)
        assert not fresh.exists(oid)

    def test_missing_object_is_named(
        self, stores: tuple[RemoteStore, RemoteStore], cache: Cache, tmp_path: Path
    ) -> None:
        writer, reader = stores
        writer.prepare_write()
        oid, _ = _cached(cache, b"only local")
        with pytest.raises(ObjectNotFoundError) as caught:
            reader.download(oid, 10, Cache(tmp_path / "fresh"), lambda n: None, "data/y")
        assert str(oid) in str(caught.value) and "data/y" in str(caught.value)

    def test_packs_with_whole_and_ranged_reads(
        self, stores: tuple[RemoteStore, RemoteStore], cache: Cache, tmp_path: Path
    ) -> None:
        writer, reader = stores
        blobs = [os.urandom(1000 + i) for i in range(40)]
        items = _items(cache, blobs)
        writer.prepare_write()
        for group in writer.pack_groups(items):
            assert writer.upload_pack(group, cache, lambda n: None) == []
        # found through the server's index page of packs/ (docs/spec/remote.md)
        assert reader.present({i.oid for i in items}) == {i.oid for i in items}
        batches, rest = reader.pack_batches(items[:3] + items[30:31])  # a few: ranged reads
        assert rest == [] and len(batches) == 1
        fresh = Cache(tmp_path / "fresh")
        assert reader.download_pack(batches[0], fresh, lambda n: None) == []
        for item in items[:3] + items[30:31]:
            assert fresh.read_bytes(item.oid) == blobs[items.index(item)]
        assert not fresh.exists(items[4].oid)
        everything, _ = reader.pack_batches(items)
        assert reader.download_pack(everything[0], fresh, lambda n: None) == []
        assert all(fresh.exists(i.oid) for i in items)
        assert reader.read_object(items[7].oid) == blobs[7]

    def test_chunked_file(
        self,
        stores: tuple[RemoteStore, RemoteStore],
        cache: Cache,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        import gitml.remote.sizes as remote_module

        monkeypatch.setattr(remote_module, "CHUNK_MIN", 1024 * 1024)
        monkeypatch.setattr(remote_module, "PACK_SIZE", 2 * 1024 * 1024)
        writer, reader = stores
        data = os.urandom(6 * 1024 * 1024)
        oid, path = _cached(cache, data)
        writer.prepare_write()
        writer.upload(oid, path, len(data), lambda n: None)
        # not listed (chunks/ is not looked at where listing is not promised): fetched by name
        fresh = _fetch_into_fresh_cache(reader, tmp_path, oid, len(data))
        assert fresh.read_bytes(oid) == data
        with reader.open_object(oid) as stream:
            assert stream.read() == data
