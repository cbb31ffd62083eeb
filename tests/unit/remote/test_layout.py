"""gitml.remote.layout: ids to paths and back, and which names are not ids."""

from __future__ import annotations

from gitml.hashing import hash_bytes
from gitml.remote.layout import CHUNKS, DIRS, OBJECTS, Layout, temp_beside

LAYOUT = Layout("bucket/prefix")


def test_ids_and_paths_round_trip_in_every_sharded_folder() -> None:
    oids = [hash_bytes(f"object {i}".encode()) for i in range(20)]
    for folder in (OBJECTS, CHUNKS, DIRS):
        paths = [LAYOUT.sharded(folder, oid) for oid in oids]
        assert all(p.startswith(f"bucket/prefix/{folder}/blake3/") for p in paths)
        assert list(Layout.oids_from_paths(paths)) == oids
    oid = oids[0]
    assert (
        LAYOUT.object_path(oid)
        == f"bucket/prefix/objects/blake3/{oid.hexdigest[:2]}/" + (oid.hexdigest[2:])
    )
    assert LAYOUT.chunk_list_path(oid) == LAYOUT.sharded(CHUNKS, oid)
    assert LAYOUT.dir_record_path(oid) == LAYOUT.sharded(DIRS, oid)


def test_names_that_are_not_ids_are_skipped() -> None:
    oid = hash_bytes(b"x")
    shard = LAYOUT.object_path(oid).rsplit("/", 1)[0]
    names = [
        f"{shard}/.tmp-0123456789abcdef",  # an upload in progress
        "bucket/prefix/objects/README",
        f"{shard}/{'g' * 62}",  # not hex
        f"bucket/prefix/objects/sha256/{oid.hexdigest[:2]}/{oid.hexdigest[2:]}",
        "README",
        LAYOUT.object_path(oid) + "/",  # a trailing slash is still the object
    ]
    assert list(Layout.oids_from_paths(names)) == [oid]
    assert temp_beside(LAYOUT.object_path(oid)).startswith(f"{shard}/.tmp-")


def test_pack_ids_and_run_markers_both_ways() -> None:
    pack_id = hash_bytes(b"pack").hexdigest
    assert LAYOUT.pack_path(pack_id, "idx") == f"bucket/prefix/packs/{pack_id}.idx"
    assert Layout.pack_id_of(LAYOUT.pack_path(pack_id, "idx")) == pack_id
    assert Layout.pack_id_of(LAYOUT.pack_path(pack_id, "pack")) is None  # no index yet
    assert Layout.pack_id_of("bucket/prefix/packs/notes.txt") is None
    key, entry = hash_bytes(b"key").hexdigest, hash_bytes(b"entry")
    path = f"{LAYOUT.runs_folder(key)}/{entry.hexdigest}"
    assert path == f"bucket/prefix/runs/{key[:2]}/{key[2:]}/{entry.hexdigest}"
    stray = f"{LAYOUT.runs_folder(key)}/.tmp-abc"
    assert list(Layout.markers_from_paths([path, stray, "bucket/prefix/runs/zz/x/y"])) == [
        (key, entry)
    ]


def test_relative_paths() -> None:
    assert LAYOUT.relative("bucket/prefix/profiles/a.json") == "profiles/a.json"
    assert LAYOUT.relative("/bucket/prefix/x") == "x"
    assert LAYOUT.relative("bucket/other/x") is None
