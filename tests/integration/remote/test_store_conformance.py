"""The storage contract (tests/integration/remote/contract.py) on every store: a local
folder, memory://, S3 (moto server), and the local cache for the operations it shares."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gitml.cache import Cache
from gitml.remote.config import RemoteConfig
from gitml.remote.store import RemoteStore, open_remote
from tests.integration.remote.contract import CacheObjects, Objects, ObjectsContract, RemoteContract
from tests.s3_endpoint import S3Endpoint


class TestFolder(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> RemoteStore:
        return open_remote(RemoteConfig("conf", str(tmp_path / "remote")), tmp_path)


class TestMemory(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> RemoteStore:
        config = RemoteConfig("conf", f"memory://gitml-{uuid.uuid4().hex}/store")
        return open_remote(config, tmp_path)


class TestS3(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path, s3_endpoint: S3Endpoint) -> RemoteStore:
        bucket = s3_endpoint.new_bucket()
        config = RemoteConfig(
            "conf", f"s3://{bucket}/some/prefix", {"endpoint_url": s3_endpoint.url}
        )
        return open_remote(config, tmp_path)


class TestLocalCache(ObjectsContract):
    @pytest.fixture
    def objects(self, tmp_path: Path) -> Objects:
        return CacheObjects(Cache(tmp_path / "cache"))
