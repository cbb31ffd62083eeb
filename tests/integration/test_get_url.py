"""`gitml.api.get_url` under remote format 2 (docs/python-api.md): a URL only where the
remote holds the file's whole bytes, read back here as another tool would; a clear error
for a packed or chunked file (and one the remote lacks); `layout = "whole"` makes every
object readable by URL. On a folder remote and on S3 (moto's server)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import gitml.api
from gitml.errors import ObjectNotFoundError, RemoteError
from tests.conftest import git, make_repo, run_gitml, write
from tests.s3_endpoint import S3Endpoint

MiB = 1024 * 1024
# Chunk files of 8 MiB or more (instead of 64 MiB) so the test stays small.
SMALL = {"GITML_REMOTE_CHUNK_MIN": str(8 * MiB), "GITML_REMOTE_PACK_SIZE": str(MiB)}
FILES = {
    "small.csv": b"id,label\n" + b"".join(b"%d,x\n" % i for i in range(300)),  # packed
    "mid.bin": os.urandom(2 * MiB + 1),  # loose
    "big.bin": os.urandom(9 * MiB + 7),  # chunked
}


@dataclass
class Remote:
    name: str
    read: Callable[[str], bytes]  # the bytes at a URL get_url returned, read directly


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Remote]]:
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    if request.param == "folder":
        run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=root)
        yield root, Remote("store", lambda url: Path(url).read_bytes())
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    bucket: str = request.getfixturevalue("s3_bucket")
    run_gitml("remote", "add", "-d", "s3", f"s3://{bucket}/team/data", cwd=root)
    run_gitml("remote", "modify", "s3", "endpoint_url", endpoint.url, cwd=root)

    def read_s3(url: str) -> bytes:
        assert url.startswith(f"s3://{bucket}/team/data/objects/blake3/")
        key = url.removeprefix(f"s3://{bucket}/")
        body: bytes = endpoint.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    yield root, Remote("s3", read_s3)


def test_get_url_only_where_the_whole_object_is(remote: tuple[Path, Remote]) -> None:
    root, store = remote
    for name, data in FILES.items():
        write(root / name, data)
    run_gitml("add", *FILES, cwd=root)
    run_gitml("push", cwd=root, env=SMALL)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "data", cwd=root)

    url = gitml.api.get_url("mid.bin", repo=root)
    assert store.read(url) == FILES["mid.bin"]

    for name, how in (("small.csv", "inside a pack"), ("big.bin", "as chunks")):
        with pytest.raises(RemoteError, match=f"stores {name} .* {how}") as info:
            gitml.api.get_url(name, repo=root)
        assert "gitml.api.open()" in (info.value.hint or "")
        assert f"gitml remote modify {store.name} layout whole" in (info.value.hint or "")
        assert gitml.api.read(name, repo=root) == FILES[name]  # what the error points to

    write(root / "unpushed.bin", b"not pushed")
    run_gitml("add", "unpushed.bin", cwd=root)
    with pytest.raises(
        ObjectNotFoundError, match=f"unpushed.bin .* is not on remote '{store.name}'"
    ):
        gitml.api.get_url("unpushed.bin", repo=root)

    # A remote that keeps whole objects: the next push writes the packed and chunked
    # files again, loose, and every file has a URL with its bytes behind it.
    run_gitml("remote", "modify", store.name, "layout", "whole", cwd=root)
    run_gitml("push", cwd=root, env=SMALL)
    for name in [*FILES, "unpushed.bin"]:
        expected = (root / name).read_bytes()
        assert store.read(gitml.api.get_url(name, repo=root)) == expected
    assert gitml.api.read("big.bin", repo=root) == FILES["big.bin"]
    assert f"Everything is on '{store.name}'" in run_gitml("status", "--remote", cwd=root).stdout


def test_a_bad_layout_value_is_refused(remote: tuple[Path, Remote]) -> None:
    root, store = remote
    typo = run_gitml("remote", "modify", store.name, "layout", "flat", cwd=root, check=False)
    assert typo.returncode == 2 and "layout 'flat': use 'packed' or 'whole'" in typo.stderr
    config = root / ".gitml" / "config"  # edited by hand
    text = re.sub(r"(?m)^(url = .*)$", r'\1\nlayout = "flat"', config.read_text())
    config.write_text(text)
    write(root / "a.txt", b"a")
    run_gitml("add", "a.txt", cwd=root)
    result = run_gitml("push", cwd=root, check=False)
    assert result.returncode == 1
    assert f"remote.{store.name}.layout is 'flat'; use 'packed' or 'whole'" in result.stderr
