"""Profiles travel with the data: `gitml push` uploads the reference's stored profile, and
`gitml drift` in another clone reads it from the remote instead of the reference's rows."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import git, make_repo, run_gitml
from tests.s3_endpoint import S3Endpoint


def table(seed: int) -> pa.Table:
    rng = random.Random(seed)
    return pa.table({"x": [rng.gauss(0, 1) for _ in range(5000)], "k": ["a", "b"] * 2500})


@pytest.fixture(params=["folder", "s3"])
def configure_remote(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Path], None]:
    if request.param == "folder":
        url = str(tmp_path / "remote")
        return lambda repo: run_gitml("remote", "add", "-d", "store", url, cwd=repo) and None
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    bucket = endpoint.new_bucket()

    def configure(repo: Path) -> None:
        run_gitml("remote", "add", "-d", "store", f"s3://{bucket}/team", cwd=repo)
        run_gitml("remote", "modify", "store", "endpoint_url", endpoint.url, cwd=repo)

    return configure


def test_pushed_profile_is_used_by_another_clone(
    tmp_path: Path, configure_remote: Callable[[Path], None]
) -> None:
    first = make_repo(tmp_path / "first")
    run_gitml("init", cwd=first)
    configure_remote(first)
    pq.write_table(table(1), first / "live.parquet")
    run_gitml("add", "live.parquet", cwd=first)
    git("add", "-A", cwd=first)
    git("commit", "-qm", "reference", cwd=first)
    doc = json.loads(
        run_gitml("drift", "live.parquet", "--rev", "HEAD", "--json", cwd=first).stdout
    )
    assert doc["reference_profile"] == "built"
    run_gitml("push", cwd=first)
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(first), str(bare), cwd=tmp_path)

    second = tmp_path / "second"
    git("clone", "-q", str(bare), str(second), cwd=tmp_path)
    pq.write_table(table(2), second / "live.parquet")  # today's data, not pulled: no cache
    result = run_gitml("drift", "live.parquet", "--rev", "HEAD", "--json", cwd=second)
    doc = json.loads(result.stdout)
    assert doc["reference_profile"] == "fetched"
    assert doc["rows"] == {"reference": 5000, "current": 5000}
    assert doc["drifted"] == []
    # the reference's rows were never downloaded: only its profile
    assert not (second / ".gitml" / "cache" / "blake3").exists() or not any(
        p.is_file() for p in (second / ".gitml" / "cache" / "blake3").rglob("*")
    )
    assert list((second / ".gitml" / "cache" / "profiles").rglob("*.json"))
