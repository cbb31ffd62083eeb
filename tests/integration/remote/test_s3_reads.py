"""gitml.remote.s3_reads against real S3 endpoints: answers equal to s3fs's, signatures accepted by
a server that verifies them, and everything unexpected left to s3fs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitml.errors import RemoteAuthError, RemoteFormatError, RemoteNotFoundError
from gitml.remote.config import RemoteConfig
from gitml.remote.s3 import S3FS
from gitml.remote.s3 import s3_kwargs as _s3_kwargs
from gitml.remote.s3_reads import Declined, S3Reader, reader_for
from gitml.remote.store import open_remote
from tests.s3_endpoint import S3_ENV, S3Endpoint, free_port

KEYS = [
    "store/gitml-remote.json",
    "store/objects/blake3/ab/one",
    "store/objects/blake3/ab/two",
    "store/objects/blake3/cd/three",
    "store/runs/12/34/entry",
    "store/odd name+plus/é",
]


def _reader(url: str, key: str = "testing", secret: str = "testing", **extra: Any) -> S3Reader:
    env = {**S3_ENV, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
    reader = reader_for(_s3_kwargs({"endpoint_url": url}, env, 4), env)
    assert reader is not None
    for name, value in extra.items():
        setattr(reader, name, value)
    return reader


@pytest.fixture
def filled(s3_endpoint: S3Endpoint) -> tuple[str, Any]:
    client = s3_endpoint.client()
    bucket = s3_endpoint.new_bucket()
    for number, key in enumerate(KEYS):
        client.put_object(Bucket=bucket, Key=key, Body=f"{number}:{key}".encode() * 100)
    return bucket, client


def _s3fs(url: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(**_s3_kwargs({"endpoint_url": url}, S3_ENV, 4))


def test_reads_equal_s3fs(s3_endpoint: S3Endpoint, filled: tuple[str, Any]) -> None:
    bucket, _ = filled
    reader, reference = _reader(s3_endpoint.url, page_size=2), _s3fs(s3_endpoint.url)
    for key in KEYS:
        path = f"{bucket}/{key}"
        assert reader.get(path) == reference.cat_file(path)
        assert reader.get(path, 3, 50) == reference.cat_file(path, start=3, end=50)
        assert reader.get(path, 100) == reference.cat_file(path, start=100)
    for folder in (
        "store",
        "store/objects/blake3",
        "store/objects/blake3/ab",
        "store/odd name+plus",
    ):
        path = f"{bucket}/{folder}"
        assert sorted(reader.ls(path)) == sorted(reference.ls(path, detail=False))
        assert sorted(reader.find(path)) == sorted(reference.find(path))  # pages of 2 keys
    assert len(reader.find(f"{bucket}/store")) == len(KEYS)


def test_missing_keys_and_folders(s3_endpoint: S3Endpoint, filled: tuple[str, Any]) -> None:
    bucket, _ = filled
    reader = _reader(s3_endpoint.url)
    with pytest.raises(FileNotFoundError):
        reader.get(f"{bucket}/store/objects/blake3/ab/none")
    with pytest.raises(FileNotFoundError):
        reader.ls(f"{bucket}/store/packs")
    assert reader.find(f"{bucket}/store/packs") == []
    with pytest.raises(Declined):  # no such bucket: s3fs words that error
        reader.ls("no-such-bucket-anywhere/store")


def test_store_reads_through_the_reader_and_falls_back(
    s3_endpoint: S3Endpoint, filled: tuple[str, Any], tmp_path: Path
) -> None:
    bucket, client = filled
    config = RemoteConfig("r", f"s3://{bucket}/store", {"endpoint_url": s3_endpoint.url})
    store = open_remote(config, tmp_path)
    fs = store.fs
    assert isinstance(fs, S3FS)
    with pytest.raises(RemoteFormatError):  # this marker holds no JSON: it was read...
        store.read_format()
    assert fs.cat_file(f"{bucket}/store/runs/12/34/entry").startswith(b"4:")
    assert len(fs.find(f"{bucket}/store")) == len(KEYS)
    assert fs._full is None  # ...and the store listed, without building s3fs
    # A read the reader declines goes to s3fs, and so does every read after it.
    missing = RemoteConfig("m", "s3://no-such-bucket-anywhere/x", {"endpoint_url": s3_endpoint.url})
    with pytest.raises(
        RemoteNotFoundError, match="bucket 'no-such-bucket-anywhere' does not exist"
    ):
        open_remote(missing, tmp_path).check_format()
    fs.pipe_file(f"{bucket}/store/new", b"written by s3fs")
    assert fs._full is not None
    assert fs.cat_file(f"{bucket}/store/new") == b"written by s3fs"
    assert client.get_object(Bucket=bucket, Key="store/new")["Body"].read() == b"written by s3fs"


def test_configurations_it_leaves_to_s3fs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in S3_ENV.items():  # botocore's credential chain reads os.environ
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    env = dict(os.environ)
    plain = _s3_kwargs({"endpoint_url": "http://127.0.0.1:9"}, env, 4)
    assert reader_for(plain, env) is not None
    assert reader_for({**plain, "anon": True}, env) is None
    assert reader_for({**plain, "client_kwargs": {"verify": False}}, env) is None
    assert reader_for({**plain, "config_kwargs": {"signature_version": "s3"}}, env) is None
    assert reader_for(plain, {**env, "HTTPS_PROXY": "http://proxy:3128"}) is None
    assert reader_for(plain, {**env, "GITML_S3_LIGHT_READS": "0"}) is None
    # No credentials anywhere: s3fs says so, in the words the CLI maps.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    no_keys = dict(os.environ)
    assert reader_for(plain, no_keys) is None
    assert reader_for({**plain, "key": "k", "secret": "s"}, no_keys) is not None


def test_region_and_addressing() -> None:
    env = {k: v for k, v in S3_ENV.items() if v}
    overridden = reader_for(_s3_kwargs({"region": "eu-west-1"}, env, 4), env)
    assert overridden is not None and overridden.endpoint is None
    assert overridden.region == "us-east-1"  # AWS_DEFAULT_REGION wins over the config
    no_region = {**env, "AWS_DEFAULT_REGION": ""}
    aws = reader_for(_s3_kwargs({"region": "eu-west-1"}, no_region, 4), no_region)
    assert aws is not None and aws.region == "eu-west-1"
    url = aws._url("my-bucket", "a b/c", {"prefix": "x/y"}, "eu-west-1")
    assert url == "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c?prefix=x%2Fy"
    dotted = aws._url("my.bucket", "k", {}, "us-east-1")
    assert dotted == "https://s3.amazonaws.com/my.bucket/k"
    custom = _reader("http://127.0.0.1:9/")
    assert custom._url("b", "k", {}, "us-east-1") == "http://127.0.0.1:9/b/k"


# A server that verifies signatures -------------------------------------------------------


@pytest.fixture(scope="module")
def verifying_endpoint() -> Iterator[tuple[str, str, str, str]]:
    """A moto server in its own process (auth is process-wide in moto) with one IAM user
    allowed s3:*, a bucket with KEYS, then signature checking switched on."""
    import boto3

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **{k: v for k, v in S3_ENV.items() if v}}
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        common = {"endpoint_url": url, "region_name": "us-east-1"}
        iam = boto3.client("iam", aws_access_key_id="x", aws_secret_access_key="x", **common)
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader",
            PolicyName="s3",
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Action":"s3:*","Resource":"*"}]}',
        )
        created = iam.create_access_key(UserName="reader")["AccessKey"]
        key, secret = created["AccessKeyId"], created["SecretAccessKey"]
        s3 = boto3.client("s3", aws_access_key_id=key, aws_secret_access_key=secret, **common)
        s3.create_bucket(Bucket="signed")
        for key_name in KEYS:
            s3.put_object(Bucket="signed", Key=key_name, Body=key_name.encode())
        reset = urllib.request.Request(
            f"{url}/moto-api/reset-auth", b"0", {"Content-Type": "text/plain"}, method="POST"
        )
        urllib.request.urlopen(reset, timeout=10).close()
        yield url, "signed", key, secret
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_signatures_are_accepted_by_a_verifying_server(
    verifying_endpoint: tuple[str, str, str, str],
) -> None:
    url, bucket, key, secret = verifying_endpoint
    reader = _reader(url, key, secret, page_size=2)
    assert reader.get(f"{bucket}/store/gitml-remote.json") == b"store/gitml-remote.json"
    assert (
        reader.get(f"{bucket}/store/odd name+plus/é", 1, 4) == "store/odd name+plus/é".encode()[1:4]
    )
    assert len(reader.find(f"{bucket}/store")) == len(KEYS)
    assert f"{bucket}/store/objects" in reader.ls(f"{bucket}/store")
    forged = _reader(url, key, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with pytest.raises(Declined):  # SignatureDoesNotMatch: left to s3fs, which names it
        forged.get(f"{bucket}/store/gitml-remote.json")


def test_profile_from_a_shared_credentials_file(
    s3_endpoint: S3Endpoint,
    filled: tuple[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`profile` goes through botocore's session (as s3fs does) for the reader and s3fs."""
    bucket, client = filled
    credentials = tmp_path / "credentials"
    credentials.write_text("[team]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    options = {"endpoint_url": s3_endpoint.url, "profile": "team"}
    store = open_remote(RemoteConfig("p", f"s3://{bucket}/store", options), tmp_path)
    assert isinstance(store.fs, S3FS) and store.fs._reader is not None
    assert store.fs.cat_file(f"{bucket}/store/runs/12/34/entry").startswith(b"4:")
    store.fs.pipe_file(f"{bucket}/store/by-profile", b"through s3fs")  # s3fs, same profile
    assert client.get_object(Bucket=bucket, Key="store/by-profile")["Body"].read() == (
        b"through s3fs"
    )
    unknown = {"endpoint_url": s3_endpoint.url, "profile": "nobody"}
    missing = open_remote(RemoteConfig("u", f"s3://{bucket}/store", unknown), tmp_path)
    assert isinstance(missing.fs, S3FS) and missing.fs._reader is None
    with pytest.raises(RemoteAuthError, match="remote 'u': no usable credentials"):
        missing.check_format()
