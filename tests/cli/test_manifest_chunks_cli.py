"""Large directory manifests on a remote (format 3, docs/spec/remote.md): cut into small
content-defined chunks, so editing 10 files of a large directory uploads a few KiB of
manifest, while the pointer's id stays the BLAKE3 of the one canonical manifest
(issue 20 item 3). Remotes written the old way (whole manifests) still pull."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gitml.hashing import Oid, hash_bytes
from gitml.manifest import parse_manifest
from gitml.packfile import parse_chunk_list
from tests.cli.test_packs_cli import _remote_bytes, remote
from tests.cli.test_sync_cli import (
    Configure,
    _clone,
    _init,
    _pointer_oid,
    _snapshot,
    folder_remote,
    s3_remote,
)
from tests.conftest import git, run_gitml, write
from tests.remote_layout import packed

__all__ = ["folder_remote", "remote", "s3_remote"]

KiB = 1024
COUNT = 4000  # a ~370 KiB manifest: above the 256 KiB where manifests are chunked


def _big_dir(tmp_path: Path, configure: Configure, env: dict[str, str] | None = None) -> Path:
    src = _init(tmp_path / "src")
    for i in range(COUNT):
        write(src / "data" / f"d{i % 40:02}" / f"f{i:05}.bin", os.urandom(64))
    run_gitml("add", "data", cwd=src)
    configure(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "v1", cwd=src)
    pushed = json.loads(run_gitml("push", "--json", cwd=src, env=env).stdout)
    assert pushed["failed"] == [] and pushed["transferred"] == COUNT + 1
    return src


def _edit_ten(src: Path) -> None:
    files = sorted((src / "data").rglob("*.bin"))
    for path in files[:: len(files) // 10][:10]:
        path.unlink()
        path.write_bytes(os.urandom(64))
    run_gitml("add", "data", cwd=src)
    git("commit", "-qam", "edit 10 files", cwd=src)


def test_editing_ten_files_uploads_a_small_manifest_delta(
    tmp_path: Path, remote: Configure
) -> None:
    src = _big_dir(tmp_path, remote)
    manifest_size = (src / ".gitml/cache/blake3" / _hex(src)[:2] / _hex(src)[2:]).stat().st_size
    assert manifest_size > 300 * KiB
    before = _remote_bytes(tmp_path, src)
    _edit_ten(src)
    pushed = json.loads(run_gitml("push", "--json", cwd=src).stdout)
    assert pushed["transferred"] == 11 and pushed["failed"] == []
    added = _remote_bytes(tmp_path, src) - before
    # 10 files of 64 bytes, ~10 new manifest chunks of ~5 KiB, the new chunk list
    # (~8 KiB) and two pack indexes; the whole manifest again would be > 300 KiB.
    assert added <= 100 * KiB, added

    dst = _clone(src, tmp_path / "dst")
    pulled = json.loads(run_gitml("pull", "--json", cwd=dst).stdout)
    assert pulled["failed"] == [] and pulled["transferred"] == COUNT + 1
    assert _snapshot(dst, "data") == _snapshot(src, "data")
    status = json.loads(run_gitml("status", "--remote", "--json", cwd=dst).stdout)
    assert status["missing_objects"] == 0

    # gc keeping only the work tree's directory: the old manifest's chunk list and the 10
    # old files go; the kept manifest keeps every chunk its list names.
    name = json.loads(run_gitml("remote", "list", "--json", cwd=src).stdout)["remotes"][0]
    run_gitml("gc", "-w", "-f", "-r", str(name["name"]), "--yes-delete-remote", cwd=src)
    assert _remote_bytes(tmp_path, src) < before + added
    again = _clone(src, tmp_path / "again")
    assert json.loads(run_gitml("pull", "--json", cwd=again).stdout)["failed"] == []
    assert _snapshot(again, "data") == _snapshot(src, "data")


def _hex(repo: Path) -> str:
    return _pointer_oid(repo / "data.gitml")


def test_chunked_manifest_is_the_canonical_manifest(
    tmp_path: Path, folder_remote: Configure
) -> None:
    """What a reader that knows only whole manifests needs is on the remote: the chunk
    list names the pointer's id, and its chunks put end to end are the canonical
    `gitml-manifest 1` bytes that hash to it."""
    src = _big_dir(tmp_path, folder_remote)
    store = tmp_path / "store"
    assert json.loads((store / "gitml-remote.json").read_text()) == {"format": 3}
    oid = _hex(src)
    listed = parse_chunk_list(
        (store / "chunks/blake3" / oid[:2] / oid[2:]).read_bytes(), Oid.from_hex(oid), "list"
    )
    where = packed(store)
    data = b""
    for chunk, length in listed:
        pack, offset, size = where[chunk.hexdigest]
        assert size == length
        with open(pack, "rb") as handle:
            handle.seek(offset)
            data += handle.read(length)
    assert len(listed) > 20  # small chunks, not one
    assert hash_bytes(data).hexdigest == oid
    assert data == (src / ".gitml/cache/blake3" / oid[:2] / oid[2:]).read_bytes()
    assert len(parse_manifest(data, "manifest").entries) == COUNT


def test_a_remote_with_whole_manifests_still_pulls(
    tmp_path: Path, folder_remote: Configure
) -> None:
    """A remote written the old way (format 2: the manifest whole, in a pack) pulls, and
    the next push of an edit to it chunks the new manifest and raises the marker to 3."""
    old = {"GITML_REMOTE_MANIFEST_CHUNK_MIN": str(1 << 40)}  # the writer before format 3
    src = _big_dir(tmp_path, folder_remote, env=old)
    store = tmp_path / "store"
    assert json.loads((store / "gitml-remote.json").read_text()) == {"format": 2}
    assert not (store / "chunks").exists()
    assert _hex(src) in packed(store)

    dst = _clone(src, tmp_path / "dst")
    pulled = json.loads(run_gitml("pull", "--json", cwd=dst).stdout)
    assert pulled["failed"] == [] and pulled["transferred"] == COUNT + 1
    assert _snapshot(dst, "data") == _snapshot(src, "data")

    _edit_ten(src)
    assert json.loads(run_gitml("push", "--json", cwd=src).stdout)["transferred"] == 11
    assert json.loads((store / "gitml-remote.json").read_text()) == {"format": 3}
    git("pull", "-q", cwd=dst)
    assert json.loads(run_gitml("pull", "--json", cwd=dst).stdout)["failed"] == []
    assert _snapshot(dst, "data") == _snapshot(src, "data")
