"""The run-cache on a real cache directory, and its transfer contract (docs/spec/run-cache.md)
exercised with a second cache directory standing in for a remote."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gitml.cache import Cache, object_relpath
from gitml.errors import GitmlError, IntegrityError
from gitml.hashing import Oid, hash_bytes
from gitml.manifest import Entry, Manifest
from gitml.pipeline import runcache
from gitml.pipeline.model import LockedPath, LockEntry, OutSpec, Stage


def make_entry(cache: Cache, lr: float) -> LockEntry:
    model = cache.add_bytes(f"model {lr}".encode())
    files = [
        Entry("a.txt", cache.add_bytes(b"a"), 1),
        Entry("sub/b.txt", cache.add_bytes(b"bb"), 2),
    ]
    manifest = Manifest.build(files)
    dir_oid = cache.add_bytes(manifest.render())
    return LockEntry(
        ("python train.py",),
        deps=(LockedPath("data.csv", hash_bytes(b"data"), 4),),
        params={"params.yaml": {"lr": lr}},
        outs=(LockedPath("feats", dir_oid, 3, nfiles=2), LockedPath("model.bin", model, 9)),
    )


def key_for(entry: LockEntry) -> str:
    return runcache.run_key(
        entry.cmd, False, "", entry.deps, entry.params, [o.path for o in entry.outs]
    )


def test_save_and_lookup(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = make_entry(cache, 0.1)
    key, oid = runcache.save(cache, entry)
    assert key == key_for(entry)
    assert (cache.root / runcache.marker_relpath(key, oid)).is_file()
    hit = runcache.lookup(cache, key)
    assert hit is not None and hit.entry == entry and hit.entry_oid == oid
    assert runcache.lookup(cache, key_for(make_entry(cache, 0.2))) is None
    # The key ignores dep order but not param types.
    swapped = runcache.run_key(
        entry.cmd, False, "", entry.deps[::-1], entry.params, ["feats", "model.bin"]
    )
    assert swapped == key
    assert runcache.run_key(entry.cmd, False, "", entry.deps, {"params.yaml": {"lr": 1}}, []) != (
        runcache.run_key(entry.cmd, False, "", entry.deps, {"params.yaml": {"lr": 1.0}}, [])
    )


def test_lookup_skips_entries_it_cannot_trust_or_restore(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = make_entry(cache, 0.1)
    key, oid = runcache.save(cache, entry)
    # An out object missing from the cache: not restorable.
    model = Path(cache.path(entry.outs[1].oid))
    saved = model.read_bytes()
    os.chmod(model, 0o644)
    model.unlink()
    assert runcache.lookup(cache, key) is None
    cache.add_bytes(saved)
    assert runcache.lookup(cache, key) is not None
    # A forged marker naming another run's entry under this key is ignored.
    _, other_oid = runcache.save(cache, make_entry(cache, 0.3))
    runcache.add_marker(cache, key, other_oid)
    hit = runcache.lookup(cache, key)
    assert hit is not None and hit.entry_oid == oid
    with pytest.raises(IntegrityError, match="does not belong"):
        runcache.check_entry(cache.read_bytes(other_oid), other_oid, key)
    # A corrupt entry object is skipped.
    path = Path(cache.path(oid))
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes().replace(b"0.1", b"0.9"))
    assert runcache.lookup(cache, key) is None


def test_entry_objects_lists_what_push_must_send(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    entry = make_entry(cache, 0.1)
    key, oid = runcache.save(cache, entry)
    assert list(runcache.iter_markers(cache)) == [(key, oid)]
    objects = runcache.entry_objects(cache, oid)
    manifest = cache.load_manifest(entry.outs[0].oid)
    assert set(objects) == {oid, entry.outs[1].oid, entry.outs[0].oid, *(e.oid for e in manifest)}
    assert objects[0] == oid
    leaf = Path(cache.path(next(iter(manifest)).oid))
    os.chmod(leaf, 0o644)
    leaf.unlink()
    with pytest.raises(GitmlError, match="not in the cache"):
        runcache.entry_objects(cache, oid)


class DirectoryRemote:
    """What `gitml pull`/`repro --pull` must do, against a plain directory: the contract."""

    def __init__(self, root: Path, local: Cache) -> None:
        self.root = root
        self.local = local

    def fetch_runs(self, key: str) -> None:
        directory = self.root / runcache.RUNS_DIR / key[:2] / key[2:]
        if not directory.is_dir():
            return
        for marker in directory.iterdir():
            oid = Oid.from_hex(marker.name)
            data = (self.root / object_relpath(oid)).read_bytes()
            runcache.check_entry(data, oid, key)  # verify before anything is written
            self.local.add_bytes(data, oid)
            runcache.add_marker(self.local, key, oid)

    def fetch_objects(self, oids: list[Oid]) -> None:
        for oid in oids:
            source = self.root / object_relpath(oid)
            if source.exists():
                self.local.add_bytes(source.read_bytes(), oid)  # verifies the hash


def push(local: Cache, remote_root: Path) -> None:
    """Objects first, the marker last, only for complete entries."""
    for key, oid in runcache.iter_markers(local):
        for obj in runcache.entry_objects(local, oid):
            target = remote_root / object_relpath(obj)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local.path(obj), target)
        marker = remote_root / runcache.marker_relpath(key, oid)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()


def test_transfer_contract_brings_a_run_to_an_empty_cache(tmp_path: Path) -> None:
    ours = Cache(tmp_path / "ours")
    entry = make_entry(ours, 0.1)
    key, _ = runcache.save(ours, entry)
    remote = tmp_path / "remote"
    push(ours, remote)
    theirs = Cache(tmp_path / "theirs")
    assert runcache.lookup(theirs, key) is None
    hit = runcache.lookup(theirs, key, DirectoryRemote(remote, theirs))
    assert hit is not None and hit.entry == entry
    for out in entry.outs:
        assert theirs.verify(out.oid)
    assert all(theirs.verify(e.oid) for e in theirs.load_manifest(entry.outs[0].oid))


def test_eligibility_follows_dvc() -> None:
    base = Stage("s", ("x",), deps=("d",), outs=(OutSpec("o"),))
    assert runcache.eligible(base)
    assert not runcache.eligible(Stage("s", ("x",), deps=("d",)))
    assert not runcache.eligible(Stage("s", ("x",), outs=(OutSpec("o"),)))
    assert not runcache.eligible(Stage("s", ("x",), deps=("d",), outs=(OutSpec("o", cache=False),)))
    assert not runcache.eligible(
        Stage("s", ("x",), deps=("d",), outs=(OutSpec("o", persist=True),))
    )
    assert not runcache.eligible(
        Stage("s", ("x",), deps=("d",), outs=(OutSpec("o"),), always_changed=True)
    )
