"""A real S3 endpoint for tests: moto's server on 127.0.0.1 with dummy credentials.

Imported by the conftest files that need it (tests/integration, tests/cli). The server is
started once per test process (each xdist worker gets its own, on a free port).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Dummy credentials, no IMDS lookups (never a request off this machine), no ~/.aws.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/gitml-test-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/gitml-test-aws-credentials",
    "AWS_PROFILE": "",
    "AWS_ENDPOINT_URL": "",
    "AWS_ENDPOINT_URL_S3": "",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class S3Endpoint:
    url: str
    access_key: str = "testing"  # what the server accepts (moto: anything)
    secret_key: str = "testing"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        name = f"gitml-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for key, value in S3_ENV.items():
            if value:
                patch.setenv(key, value)
            else:
                patch.delenv(key, raising=False)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield S3Endpoint(f"http://127.0.0.1:{port}")
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.new_bucket()
