"""Remote format 2 through the installed `gitml`: packs of small files, chunks of large
ones, concurrent pushes, corruption, and reading a format-1 remote after the upgrade."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_sync_cli import (
    Configure,
    _clone,
    _init,
    _packed,
    _pointer_oid,
    _snapshot,
    folder_remote,
    s3_remote,
)
from tests.conftest import GITML, git, run_gitml, write

__all__ = ["folder_remote", "s3_remote"]

MiB = 1024 * 1024
# Small thresholds keep CI fast: chunk files of 8 MiB or more, packs of ~1 MiB.
SMALL = {"GITML_REMOTE_CHUNK_MIN": str(8 * MiB), "GITML_REMOTE_PACK_SIZE": str(MiB)}


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest) -> Configure:
    fixture: Configure = request.getfixturevalue(f"{request.param}_remote")
    return fixture


def _gitml(*args: str, cwd: Path, check: bool = True) -> dict[str, object]:
    result = run_gitml(*args, "--json", cwd=cwd, env=SMALL, check=check)
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def _remote_bytes(tmp_path: Path, repo: Path) -> int:
    """Bytes stored on the remote (folder: the store; S3: every key under the bucket)."""
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    url = str(listed["remotes"][0]["url"])
    if not url.startswith("s3://"):
        return sum(p.stat().st_size for p in Path(url).rglob("*") if p.is_file())
    import boto3

    endpoint = next(r for r in listed["remotes"])["options"]["endpoint_url"]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(o["Size"] for page in pages for o in page.get("Contents", []))


def test_many_small_files_round_trip_in_few_packs(tmp_path: Path, remote: Configure) -> None:
    src = _init(tmp_path / "src")
    for i in range(2000):
        write(src / "many" / f"d{i % 7}" / f"{i:05}.bin", os.urandom(4096))
    run_gitml("add", "many", cwd=src)
    remote(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "many", cwd=src)
    pushed = _gitml("push", cwd=src)
    assert pushed["transferred"] == 2001 and pushed["failed"] == []
    if (tmp_path / "store").is_dir():
        packs = list((tmp_path / "store" / "packs").glob("*.pack"))
        assert 8 <= len(packs) <= 12  # 8 MiB of files in ~1 MiB packs, plus the manifest's
        assert not (tmp_path / "store" / "objects").exists()
        assert len(_packed(tmp_path / "store")) == 2001
    assert _gitml("push", cwd=src)["transferred"] == 0

    dst = _clone(src, tmp_path / "dst")
    pulled = _gitml("pull", cwd=dst)
    assert pulled["transferred"] == 2001 and pulled["failed"] == []
    assert _snapshot(dst, "many") == _snapshot(src, "many")
    # one file of the directory: a ranged read, not the whole pack
    other = _clone(src, tmp_path / "other")
    one = _gitml("pull", "many/d3/00010.bin", cwd=other)
    assert one["transferred"] == 2 and one["restored"] == ["many/d3/00010.bin"]
    assert (other / "many/d3/00010.bin").read_bytes() == (src / "many/d3/00010.bin").read_bytes()


def _edit(path: Path, how: str) -> None:
    data = path.read_bytes()
    middle = len(data) // 2
    if how == "overwrite":
        data = data[:middle] + os.urandom(MiB) + data[middle + MiB :]
    else:
        data = os.urandom(MiB) + data
    path.write_bytes(data)


def test_large_file_edits_upload_only_a_few_chunks(tmp_path: Path, remote: Configure) -> None:
    src = _init(tmp_path / "src")
    write(src / "model.bin", os.urandom(40 * MiB))
    run_gitml("add", "model.bin", cwd=src)
    remote(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "v1", cwd=src)
    _gitml("push", cwd=src)
    versions = [(src / "model.bin").read_bytes()]
    commits = [git("rev-parse", "HEAD", cwd=src).strip()]
    for how in ("overwrite", "insert"):
        before = _remote_bytes(tmp_path, src)
        _edit(src / "model.bin", how)
        run_gitml("add", "model.bin", cwd=src)
        git("commit", "-qam", how, cwd=src)
        pushed = _gitml("push", cwd=src)
        assert pushed["transferred"] == 1
        added = _remote_bytes(tmp_path, src) - before
        assert MiB <= added <= 9 * MiB, (how, added)  # the new MiB and its neighbours only
        versions.append((src / "model.bin").read_bytes())
        commits.append(git("rev-parse", "HEAD", cwd=src).strip())

    dst = _clone(src, tmp_path / "dst")
    for commit, expected in zip(commits, versions, strict=True):
        git("checkout", "-q", commit, cwd=dst)
        pulled = _gitml("pull", cwd=dst)
        assert pulled["failed"] == []
        assert (dst / "model.bin").read_bytes() == expected
    assert os.listdir(dst / ".gitml/cache/tmp") == []


def test_two_clones_push_concurrently_then_both_pull_everything(
    tmp_path: Path, remote: Configure
) -> None:
    base = _init(tmp_path / "base")
    write(base / "README", "x\n")
    remote(base)
    git("add", "-A", cwd=base)
    git("commit", "-qm", "base", cwd=base)
    clones = [_clone(base, tmp_path / name) for name in ("a", "b")]
    for n, clone in enumerate(clones):
        for i in range(300):
            write(clone / f"set{n}" / f"{i:04}.bin", os.urandom(3000 + i))
        write(clone / "shared.bin", b"same in both clones\n" * 1000)
        write(clone / f"big{n}.bin", os.urandom(9 * MiB))  # chunked
        run_gitml("add", f"set{n}", "shared.bin", f"big{n}.bin", cwd=clone)
        git("add", "-A", cwd=clone)
        git("commit", "-qm", f"clone {n}", cwd=clone)
    assert GITML
    procs = [
        subprocess.Popen(
            [GITML, "push", "--json"],
            cwd=clone,
            env={**os.environ, "CI": "1", **SMALL},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clone in clones
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert json.loads(out)["failed"] == []
    for n, clone in enumerate(clones):
        other = clones[1 - n]
        git("fetch", "-q", str(other), "main", cwd=clone)
        git("merge", "-q", "--no-edit", "-X", "ours", "FETCH_HEAD", cwd=clone)
        shutil.rmtree(clone / ".gitml" / "cache")
        pulled = _gitml("pull", cwd=clone)
        assert pulled["failed"] == []
        for m in (0, 1):
            assert _snapshot(clone, f"set{m}", f"big{m}.bin") == _snapshot(
                clones[m], f"set{m}", f"big{m}.bin"
            )


def test_flipped_byte_in_an_index_is_named(tmp_path: Path, folder_remote: Configure) -> None:
    src = _init(tmp_path / "src")
    for i in range(20):
        write(src / "data" / f"{i}.txt", f"file {i}\n")
    run_gitml("add", "data", cwd=src)
    folder_remote(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "data", cwd=src)
    run_gitml("push", cwd=src)
    store = tmp_path / "store"
    manifest = _pointer_oid(src / "data.gitml")
    index = next(p for p in store.glob("packs/*.idx") if manifest not in p.read_text())
    os.chmod(index, 0o644)
    raw = bytearray(index.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    index.write_bytes(bytes(raw))

    dst = _clone(src, tmp_path / "dst")
    result = run_gitml("pull", cwd=dst, check=False)
    assert result.returncode == 1
    assert f"packs/{index.name}" in result.stderr and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    cached = [p for p in (dst / ".gitml/cache/blake3").rglob("*") if p.is_file()]
    assert len(cached) <= 1  # at most the manifest, which lives in another pack
    assert not (dst / "data").exists()


def test_format_1_remote_is_read_and_upgraded(tmp_path: Path, folder_remote: Configure) -> None:
    """A remote written by format-1 gitml (loose objects) is read, and the next push
    writes marker 2 and packs new objects next to the loose ones."""
    src = _init(tmp_path / "src")
    for i in range(10):
        write(src / "data" / f"{i}.txt", f"old {i}\n")
    run_gitml("add", "data", cwd=src)
    folder_remote(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "old", cwd=src)
    store = tmp_path / "store"
    cache = src / ".gitml/cache/blake3"
    for path in cache.rglob("*"):  # what format-1 gitml wrote: every object loose
        if path.is_file():
            target = store / "objects/blake3" / path.relative_to(cache)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (store / "gitml-remote.json").write_text('{"format": 1}\n')
    assert _gitml("push", cwd=src)["transferred"] == 0  # already there, loose

    write(src / "data" / "new.txt", "new\n")
    run_gitml("add", "data", cwd=src)
    git("commit", "-qam", "new", cwd=src)
    assert _gitml("push", cwd=src)["transferred"] == 2  # the new file and manifest
    assert json.loads((store / "gitml-remote.json").read_text()) == {"format": 2}
    assert len(_packed(store)) == 2

    dst = _clone(src, tmp_path / "dst")
    pulled = _gitml("pull", cwd=dst)
    assert pulled["failed"] == [] and pulled["transferred"] == 12
    assert _snapshot(dst, "data") == _snapshot(src, "data")
