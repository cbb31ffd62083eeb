"""The first push of a large file: cut by several threads, each byte stored once, the
chunk list written only for a cache object that still hashes to its id (issue 20 item 5)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.cli.test_packs_cli import SMALL, _gitml, _remote_bytes, remote
from tests.cli.test_sync_cli import (
    Configure,
    _clone,
    _init,
    _pointer_oid,
    folder_remote,
    s3_remote,
)
from tests.conftest import git, run_gitml, write

__all__ = ["folder_remote", "remote", "s3_remote"]

MiB = 1024 * 1024


def test_first_push_of_a_large_file_stores_each_byte_once(
    tmp_path: Path, remote: Configure
) -> None:
    src = _init(tmp_path / "src")
    # 70 MiB: three of the cutter's 32 MiB windows; repeated blocks dedup within the file.
    block = os.urandom(5 * MiB)
    data = os.urandom(40 * MiB) + block + os.urandom(20 * MiB) + block
    write(src / "model.bin", data)
    run_gitml("add", "model.bin", cwd=src)
    remote(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "v1", cwd=src)
    pushed = _gitml("push", cwd=src)
    assert pushed["transferred"] == 1 and pushed["failed"] == []
    stored = _remote_bytes(tmp_path, src)
    # 65 MiB of distinct bytes, the 70 MiB file less the chunks wholly inside the repeated
    # block (FastCDC re-finds its cut points a chunk or so in), plus indexes and chunk list.
    assert 65 * MiB <= stored < 70 * MiB, stored
    store = tmp_path / "store"
    if store.is_dir():
        oid = _pointer_oid(src / "model.bin.gitml")
        assert (store / "chunks/blake3" / oid[:2] / oid[2:]).is_file()
        assert not (store / "objects").exists()
        assert not [p for p in store.rglob(".tmp-*")]

    dst = _clone(src, tmp_path / "dst")
    assert _gitml("pull", cwd=dst)["failed"] == []
    assert (dst / "model.bin").read_bytes() == data


def test_a_corrupt_cache_object_is_not_published(tmp_path: Path, remote: Configure) -> None:
    src = _init(tmp_path / "src")
    write(src / "model.bin", random.Random(5).randbytes(20 * MiB))
    run_gitml("add", "model.bin", cwd=src)
    remote(src)
    oid = _pointer_oid(src / "model.bin.gitml")
    cached = src / ".gitml/cache/blake3" / oid[:2] / oid[2:]
    os.chmod(cached, 0o644)
    with open(cached, "r+b") as handle:  # bit rot in the cache, after add
        handle.seek(12 * MiB)
        handle.write(b"\xff")
    result = run_gitml("push", cwd=src, env=SMALL, check=False)
    assert result.returncode == 1
    assert f"cache object blake3:{oid} is corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    store = tmp_path / "store"
    if store.is_dir():
        assert not (store / "chunks").exists()  # no chunk list: the file is not on the remote
