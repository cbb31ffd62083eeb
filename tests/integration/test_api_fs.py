"""gitml.api and the gitml:// fsspec filesystem reading old revisions: from a local
repository with its cache, and from a fresh clone with no cache (data from a folder
remote and from S3 on moto's server), with pyarrow on top."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import gitml.api
from gitml.errors import (
    GitError,
    IntegrityError,
    ObjectNotFoundError,
    PathError,
    RemoteError,
)
from gitml.fs import GitmlFileSystem
from gitml.hashing import hash_bytes
from tests.conftest import git, make_repo, run_gitml, write
from tests.remote_layout import flip_last_byte
from tests.s3_endpoint import S3Endpoint

CSV_V1 = b"id,name\n1,ada\n2,grace\n"
CSV_V2 = b"id,name\n1,ada\n2,grace\n3,barbara\n"


def _parquet(rows: int, label: str) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"n": list(range(rows)), "label": [label] * rows}), sink)
    return sink.getvalue()


PARTS_V1 = {"p0.parquet": _parquet(100, "v1-a"), "p1.parquet": _parquet(50, "v1-b")}
PARTS_V2 = {"p0.parquet": _parquet(100, "v2-a"), "p1.parquet": _parquet(7, "v2-b")}


@dataclass
class Source:
    root: Path
    store: Path | None  # folder remote, if any


def _commit(root: Path, message: str) -> None:
    git("add", "-A", "--", "*.gitml", "*.gitignore", ".gitml", cwd=root)
    git("commit", "-qm", message, cwd=root)


def _build(root: Path, configure: Callable[[Path], None]) -> Path:
    make_repo(root)
    run_gitml("init", cwd=root)
    configure(root)
    write(root / "data" / "train.csv", CSV_V1)
    for name, data in PARTS_V1.items():
        write(root / "tables" / name, data)
    run_gitml("add", "data/train.csv", "tables", cwd=root)
    run_gitml("push", cwd=root)
    _commit(root, "v1")
    git("tag", "v1", cwd=root)
    write(root / "data" / "train.csv", CSV_V2)
    for name, data in PARTS_V2.items():
        write(root / "tables" / name, data)
    run_gitml("commit", cwd=root)
    run_gitml("push", cwd=root)
    _commit(root, "v2")
    return root


@pytest.fixture(params=["folder", "s3"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    if request.param == "folder":
        store = tmp_path / "store"

        def configure(root: Path) -> None:
            run_gitml("remote", "add", "-d", "origin", str(store), cwd=root)

        yield Source(_build(tmp_path / "src", configure), store)
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    bucket: str = request.getfixturevalue("s3_bucket")

    def configure_s3(root: Path) -> None:
        run_gitml("remote", "add", "-d", "s3", f"s3://{bucket}/api", cwd=root)
        run_gitml("remote", "modify", "s3", "endpoint_url", endpoint.url, cwd=root)

    yield Source(_build(tmp_path / "src", configure_s3), None)


@pytest.fixture
def clone(source: Source, tmp_path: Path) -> Path:
    """A fresh clone: pointers only, an empty cache."""
    dst = tmp_path / "clone"
    git("clone", "-q", str(source.root), str(dst), cwd=tmp_path)
    assert not (dst / ".gitml" / "cache").exists()
    return dst


def _cache_objects(root: Path) -> list[str]:
    base = root / ".gitml" / "cache" / "blake3"
    return [str(p) for p in base.rglob("*") if p.is_file()] if base.exists() else []


def test_read_old_revision_from_the_local_repository(source: Source) -> None:
    root = source.root
    assert gitml.api.read("data/train.csv", rev="v1", repo=root) == CSV_V1
    assert gitml.api.read("data/train.csv", repo=root) == CSV_V2  # the work tree's pointer
    assert (
        gitml.api.read("./tables/p1.parquet", rev="HEAD~1", repo=str(root))
        == (PARTS_V1["p1.parquet"])
    )


def test_read_old_revision_from_a_fresh_clone_without_cache(clone: Path) -> None:
    assert gitml.api.read("data/train.csv", rev="v1", repo=clone) == CSV_V1
    text = gitml.api.read("data/train.csv", rev="v1", repo=clone, mode="r", encoding="utf-8")
    assert text == CSV_V1.decode()
    with gitml.api.open("data/train.csv", rev="v1", repo=clone, mode="r") as f:
        assert [line.rstrip("\n") for line in f] == ["id,name", "1,ada", "2,grace"]
    assert _cache_objects(clone) == []  # reading never writes into the cache


def test_pyarrow_reads_parquet_of_an_old_revision(clone: Path) -> None:
    with gitml.api.open("tables/p0.parquet", rev="v1", repo=clone) as f:
        table = pq.read_table(f)
    assert table.column("label").to_pylist() == ["v1-a"] * 100
    fs = GitmlFileSystem(repo=str(clone), rev="v1")
    dataset = ds.dataset("tables", filesystem=fs, format="parquet")
    assert sorted(dataset.to_table().column("label").to_pylist()) == ["v1-a"] * 100 + ["v1-b"] * 50
    newer = ds.dataset("tables", filesystem=GitmlFileSystem(repo=str(clone)), format="parquet")
    assert newer.count_rows() == 107


def test_fsspec_open_with_rev_and_repo(clone: Path) -> None:
    with fsspec.open("gitml://data/train.csv", rev="v1", repo=str(clone)) as f:
        assert f.read() == CSV_V1
    with fsspec.open("gitml://tables/p1.parquet", "rb", rev="v1", repo=str(clone)) as f:
        assert pq.read_table(f).num_rows == 50
    with fsspec.open("gitml://data/train.csv", "rt", rev="HEAD", repo=str(clone)) as f:
        assert f.read() == CSV_V2.decode()


def test_filesystem_listing(clone: Path) -> None:
    fs = fsspec.filesystem("gitml", repo=str(clone), rev="v1")
    assert fs.ls("", detail=False) == ["data", "tables"]
    assert fs.ls("tables", detail=False) == ["tables/p0.parquet", "tables/p1.parquet"]
    info = fs.info("tables/p1.parquet")
    assert info["type"] == "file" and info["size"] == len(PARTS_V1["p1.parquet"])
    assert fs.info("tables")["type"] == "directory"
    assert fs.isdir("data") and fs.isfile("data/train.csv")
    assert fs.find("") == ["data/train.csv", "tables/p0.parquet", "tables/p1.parquet"]
    assert fs.cat_file("data/train.csv", start=3, end=7) == CSV_V1[3:7]
    assert not fs.exists("tables/p9.parquet")
    with pytest.raises(FileNotFoundError):
        fs.open("nope.csv")
    with pytest.raises(PermissionError):
        fs.open("data/train.csv", "wb")


def test_git_url_repository(source: Source, tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    git("clone", "-q", "--bare", str(source.root), str(bare), cwd=tmp_path)
    url = f"file://{bare}"
    assert gitml.api.read("data/train.csv", rev="v1", repo=url) == CSV_V1
    with fsspec.open("gitml://tables/p0.parquet", rev="v1", repo=url) as f:
        assert pq.read_table(f).num_rows == 100


def test_get_url_of_a_packed_object_is_refused(source: Source, clone: Path) -> None:
    """A small file lives inside a pack (remote format 2): it has no URL of its own.
    (A loose object's URL: test_corrupt_remote_object_fails_at_the_end.)"""
    with pytest.raises(RemoteError, match="inside a pack"):
        gitml.api.get_url("data/train.csv", rev="v1", repo=clone)


def test_corrupt_remote_object_fails_at_the_end(tmp_path: Path) -> None:
    store = tmp_path / "store"
    root = make_repo(tmp_path / "src")
    run_gitml("init", cwd=root)
    run_gitml("remote", "add", "-d", "origin", str(store), cwd=root)
    big = os.urandom(3 * 1024 * 1024 + 5)  # bigger than one buffered read (1 MiB)
    write(root / "big.bin", big)
    write(root / "small.csv", CSV_V1)
    run_gitml("add", "big.bin", "small.csv", cwd=root)
    run_gitml("push", cwd=root)
    _commit(root, "v1")
    clone = tmp_path / "clone"
    git("clone", "-q", str(root), str(clone), cwd=tmp_path)
    path = Path(gitml.api.get_url("big.bin", repo=clone))  # a loose object: a path
    assert path.read_bytes() == big
    os.chmod(path, 0o644)
    path.write_bytes(big[:-1] + b"!")
    flip_last_byte(store, hash_bytes(CSV_V1).hexdigest)  # inside its pack
    with gitml.api.open("big.bin", repo=clone) as f:
        assert f.read(1024) == big[:1024]  # served as it streams...
        with pytest.raises(IntegrityError, match=r"big.bin: object .* is corrupt"):
            f.read()  # ...and the read reaching the end is refused
    with gitml.api.open("small.csv", repo=clone) as f, pytest.raises(IntegrityError):
        f.read(1)  # a small file arrives in one chunk: its first read is its last
    with gitml.api.open("big.bin", repo=clone) as f, pytest.raises(IntegrityError):
        f.seek(10)  # random access verifies the whole object first
        f.read(1)


def test_api_errors(source: Source, tmp_path: Path) -> None:
    with pytest.raises(PathError, match="not tracked by gitml at v1"):
        gitml.api.read("data/other.csv", rev="v1", repo=source.root)
    with pytest.raises(PathError, match="is a directory"):
        gitml.api.read("tables", rev="v1", repo=source.root)
    with pytest.raises(GitError, match="unknown revision"):
        gitml.api.read("data/train.csv", rev="nope", repo=source.root)
    with pytest.raises(PathError, match="escapes"):
        gitml.api.read("../x", repo=source.root)
    with pytest.raises(ValueError, match="mode"):
        gitml.api.read("data/train.csv", repo=source.root, mode="w")
    lonely = make_repo(tmp_path / "lonely")
    run_gitml("init", cwd=lonely)
    write(lonely / "x.bin", b"x")
    run_gitml("add", "x.bin", cwd=lonely)
    _commit(lonely, "x")
    clone = tmp_path / "lonely-clone"
    git("clone", "-q", str(lonely), str(clone), cwd=tmp_path)
    with pytest.raises(ObjectNotFoundError, match="not in the cache"):
        gitml.api.read("x.bin", repo=clone)
