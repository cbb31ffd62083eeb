"""The storage contract (tests/integration/remote/contract.py) on every store: a local
folder, memory://, S3 on two servers (moto and s3rver), SSH (OpenSSH's sshd), Azure Blob
(Azurite), GCS (gcp-storage-emulator), plain HTTP (read-only, serving a folder remote),
and the local cache for the operations it shares. The servers: tests/backend_servers.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gitml.cache import Cache
from gitml.remote.config import RemoteConfig
from gitml.remote.store import RemoteStore, open_remote
from tests.backend_servers import Azurite, GCSEmulator, HTTPServer, S3rver, SSHServer
from tests.integration.remote.contract import (
    CacheObjects,
    Objects,
    ObjectsContract,
    ReadOnlyContract,
    RemoteContract,
)
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


class TestS3rver(RemoteContract):
    """A second S3 server, so that moto's quirks cannot pass for S3's."""

    @pytest.fixture
    def store(self, tmp_path: Path, s3rver_env: S3rver) -> RemoteStore:
        bucket = s3rver_env.new_bucket()
        options = {"endpoint_url": s3rver_env.url}
        config = RemoteConfig("conf", f"s3://{bucket}/some/prefix", options)
        return open_remote(config, tmp_path)


class TestSSH(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path, ssh_server: SSHServer) -> RemoteStore:
        config = RemoteConfig("conf", ssh_server.new_remote_url(), ssh_server.options)
        return open_remote(config, tmp_path)


class TestAzure(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path, azurite: Azurite) -> RemoteStore:
        container = azurite.new_container()
        config = RemoteConfig("conf", f"az://{container}/some/prefix", azurite.options)
        return open_remote(config, tmp_path)


class TestGCS(RemoteContract):
    @pytest.fixture
    def store(self, tmp_path: Path, gcs_emulator: GCSEmulator) -> RemoteStore:
        bucket = gcs_emulator.new_bucket()
        config = RemoteConfig("conf", f"gs://{bucket}/some/prefix", gcs_emulator.options)
        return open_remote(config, tmp_path)


class TestHTTP(ReadOnlyContract):
    """Plain HTTP is read-only: a folder remote is pushed to, an HTTP server serves it."""

    @pytest.fixture
    def stores(self, tmp_path: Path, http_server: HTTPServer) -> tuple[RemoteStore, RemoteStore]:
        folder, url = http_server.new_folder()
        writer = open_remote(RemoteConfig("conf", str(folder)), tmp_path)
        return writer, open_remote(RemoteConfig("conf", url), tmp_path)


class TestLocalCache(ObjectsContract):
    @pytest.fixture
    def objects(self, tmp_path: Path) -> Objects:
        return CacheObjects(Cache(tmp_path / "cache"))
