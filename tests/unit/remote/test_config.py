"""Remote configuration rules (pure) and the translation of storage-library errors."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from gitml.config import Config
from gitml.errors import (
    ConfigError,
    RemoteAuthError,
    RemoteError,
    RemoteNotConfiguredError,
    RemoteNotFoundError,
    RemotePermissionError,
    RemoteUnreachableError,
)
from gitml.remote.config import (
    all_remotes,
    check_tracked_config,
    default_name,
    is_credential_key,
    normalize_url,
    parse_value,
    resolve,
    url_has_password,
)
from gitml.remote.failures import translate
from gitml.remote.s3 import s3_kwargs as _s3_kwargs


@pytest.mark.parametrize(
    "key",
    ["key", "secret", "token", "password", "access_key_id", "secret_access_key",
     "session_token", "aws_secret_access_key", "account_key", "sas_token", "client_secret",
     "connection_string", "SECRET", "my_password", "passphrase"],
)  # fmt: skip
def test_credential_keys(key: str) -> None:
    assert is_credential_key(key)


@pytest.mark.parametrize(
    "key", ["url", "endpoint_url", "profile", "region", "anon", "key_filename", "use_ssl"]
)
def test_ordinary_options_are_not_credentials(key: str) -> None:
    assert not is_credential_key(key)


def test_url_passwords() -> None:
    assert url_has_password("https://user:pw@host/x")
    assert url_has_password("s3://AKIA:secret@bucket/x")
    assert not url_has_password("s3://bucket/x")
    assert not url_has_password("ssh://user@host/x")
    assert not url_has_password("/local/path")


def test_parse_value() -> None:
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("12") == 12 and parse_value("0") == 0
    assert parse_value("012") == "012"  # leading zeros stay text
    assert parse_value("us-east-1") == "us-east-1"


def test_normalize_url(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert normalize_url("s3://b/p/", root) == "s3://b/p"
    assert normalize_url("s3://b/", root) == "s3://b/"
    assert normalize_url("../store", root, cwd=root / "sub") == "store"
    assert normalize_url("/abs/store/", root) == "/abs/store"


def _gitml_dir(tmp_path: Path, shared: str, local: str = "") -> Path:
    gitml_dir = tmp_path / ".gitml"
    gitml_dir.mkdir(parents=True)
    (gitml_dir / "config").write_text(shared)
    if local:
        (gitml_dir / "config.local").write_text(local)
    return gitml_dir


def test_precedence_flag_env_local_shared(tmp_path: Path) -> None:
    gitml_dir = _gitml_dir(
        tmp_path,
        '[core]\nremote = "a"\n[remote.a]\nurl = "/a"\n[remote.b]\nurl = "/b"\n'
        '[remote.c]\nurl = "/c"\nregion = "eu"\n',
        '[core]\nremote = "b"\n[remote.c]\nregion = "us"\nsecret = "s"\n',
    )
    config = Config.load(gitml_dir)
    assert default_name(config, env={}) == "b"  # config.local beats config
    assert default_name(config, env={"GITML_REMOTE": "c"}) == "c"  # env beats both
    assert resolve(config, gitml_dir, None, env={}).name == "b"
    assert resolve(config, gitml_dir, "a", env={"GITML_REMOTE": "c"}).name == "a"  # flag wins
    merged = {r.name: r for r in all_remotes(config, env={})}["c"]
    assert merged.options == {"region": "us", "secret": "s"}  # key by key


def test_unknown_and_missing_default(tmp_path: Path) -> None:
    gitml_dir = _gitml_dir(tmp_path, '[remote.a]\nurl = "/a"\n')
    config = Config.load(gitml_dir)
    with pytest.raises(RemoteNotConfiguredError, match="no default remote"):
        resolve(config, gitml_dir, None, env={})
    with pytest.raises(RemoteNotConfiguredError, match="'zz' is not configured"):
        resolve(config, gitml_dir, "zz", env={})
    empty = _gitml_dir(tmp_path / "e", "")
    with pytest.raises(RemoteNotConfiguredError, match="no remote configured"):
        resolve(Config.load(empty), empty, None, env={})


def test_remote_without_url_is_a_config_error(tmp_path: Path) -> None:
    gitml_dir = _gitml_dir(tmp_path, '[remote.a]\nregion = "x"\n')
    with pytest.raises(ConfigError, match=r"remote\.a has no url"):
        all_remotes(Config.load(gitml_dir), env={})


def test_tracked_credentials_are_refused(tmp_path: Path) -> None:
    gitml_dir = _gitml_dir(tmp_path, '[remote.a]\nurl = "/a"\ntoken = "t"\n')
    with pytest.raises(ConfigError, match=r"remote\.a\.token is a credential") as caught:
        check_tracked_config(gitml_dir)
    assert caught.value.hint and "--local" in caught.value.hint
    ok = _gitml_dir(tmp_path / "ok", '[remote.a]\nurl = "/a"\n', '[remote.a]\ntoken = "t"\n')
    check_tracked_config(ok)


def test_s3_options_env_overrides_and_timeouts() -> None:
    options = {"endpoint_url": "http://cfg", "profile": "p", "region": "eu-west-1", "key": "k"}
    plain = _s3_kwargs(options, {}, 16)
    assert plain["endpoint_url"] == "http://cfg" and plain["profile"] == "p"
    assert plain["client_kwargs"] == {"region_name": "eu-west-1"}
    assert plain["config_kwargs"]["connect_timeout"] == 5
    assert plain["config_kwargs"]["retries"] == {"max_attempts": 3, "mode": "standard"}
    assert plain["skip_instance_cache"] is True and plain["use_listings_cache"] is False
    env = {
        "AWS_ENDPOINT_URL": "http://env",
        "AWS_PROFILE": "envprofile",
        "AWS_REGION": "us-east-2",
        "AWS_ACCESS_KEY_ID": "AKIA",
    }
    overridden = _s3_kwargs(options, env, 16)
    # the AWS variables win: the options are dropped so botocore reads the environment
    for key in ("endpoint_url", "profile", "key"):
        assert key not in overridden
    assert overridden["client_kwargs"] == {}
    aliased = _s3_kwargs({"access_key_id": "A", "secret_access_key": "S"}, {}, 4)
    assert aliased["key"] == "A" and aliased["secret"] == "S"


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "ListObjectsV2")


def _wrapped(cause: BaseException, exc: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "kind", "text"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), RemoteUnreachableError,
         "remote 'r' is unreachable"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
         RemoteUnreachableError, "unreachable"),
        (NoCredentialsError(), RemoteAuthError, "no usable credentials"),
        (_wrapped(_client_error("InvalidAccessKeyId"), PermissionError("denied")),
         RemoteAuthError, "credentials rejected (InvalidAccessKeyId)"),
        (_wrapped(_client_error("SignatureDoesNotMatch"), PermissionError("x")),
         RemoteAuthError, "credentials rejected"),
        (_wrapped(_client_error("AccessDenied"), PermissionError("Access Denied")),
         RemotePermissionError, "permission denied while listing"),
        (_wrapped(_client_error("NoSuchBucket"), FileNotFoundError("gone")),
         RemoteNotFoundError, "bucket 'bkt' does not exist"),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/store/x"),
         RemotePermissionError, "permission denied while listing: /srv/store/x"),
        (OSError(errno.EIO, "Input/output error"), RemoteError, "listing failed"),
    ],
)  # fmt: skip
def test_translate(exc: BaseException, kind: type[RemoteError], text: str) -> None:
    mapped = translate("r", "listing", exc, "bkt/prefix")
    assert type(mapped) is kind
    assert text in str(mapped)
    assert "\n" not in str(mapped)


def test_translate_leaves_programming_errors_alone() -> None:
    assert translate("r", "x", KeyError("k")) is None


def test_making_an_s3_client_leaves_the_default_options_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import s3fs

    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for _ in range(2):  # botocore rewrote the shared "retries" dict on the first client
        s3fs.S3FileSystem(endpoint_url="http://127.0.0.1:9", **_s3_kwargs({}, {}, 4)).connect()
        retries = _s3_kwargs({}, {}, 4)["config_kwargs"]["retries"]
        assert retries == {"max_attempts": 3, "mode": "standard"}
