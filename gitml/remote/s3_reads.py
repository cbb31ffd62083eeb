"""S3 reads without s3fs: GET an object and list a prefix, signed by botocore's SigV4 signer
and sent with urllib3.

`import s3fs` (aiobotocore, aiohttp) and building its client cost ~0.4 s, most of a
`gitml status --remote`; this path costs ~0.1 s (botocore.auth and its urllib3) and serves
the reads a RemoteStore makes. It knows a deliberately small part of the S3 world: static
or botocore-resolved credentials, a custom endpoint (path-style addressing) or AWS
(virtual-hosted, one region redirect), no proxies; AWS_CA_BUNDLE is honoured. For any other
configuration `reader_for` returns None, and any answer it does not expect raises
`Declined`: the caller then asks s3fs, which gives the authoritative answer or error.
Connection failures are raised as they are (the endpoint is down for s3fs too).
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any, NamedTuple

_S3FS_KWARGS = {
    "endpoint_url",
    "profile",
    "key",
    "secret",
    "token",
    "client_kwargs",
    "config_kwargs",
    "skip_instance_cache",
    "use_listings_cache",
}
_CLIENT_KWARGS = {"region_name", "endpoint_url"}
_CONFIG_KWARGS = {"connect_timeout", "read_timeout", "retries", "max_pool_connections"}
_DECLINING_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
)
DEFAULT_REGION = "us-east-1"
_DNS_LABEL = re.compile("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class Declined(Exception):
    """This read is left to s3fs."""


class Keys(NamedTuple):
    """What botocore's signer reads of credentials (botocore's ReadOnlyCredentials shape,
    without importing botocore.credentials for keys that are already at hand)."""

    access_key: str
    secret_key: str
    token: str | None = None


def reader_for(s3fs_kwargs: Mapping[str, Any], env: Mapping[str, str]) -> S3Reader | None:
    """A reader for the configuration s3fs is about to get, or None when it has options or
    an environment this module does not handle."""
    if env.get("GITML_S3_LIGHT_READS", "1") == "0":
        return None
    if set(s3fs_kwargs) - _S3FS_KWARGS or any(env.get(name) for name in _DECLINING_ENV):
        return None
    client = dict(s3fs_kwargs.get("client_kwargs") or {})
    config = dict(s3fs_kwargs.get("config_kwargs") or {})
    if set(client) - _CLIENT_KWARGS or set(config) - _CONFIG_KWARGS:
        return None
    endpoint = s3fs_kwargs.get("endpoint_url") or client.get("endpoint_url")
    if not endpoint and env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if not endpoint and _config_names_endpoint(env):
        return None
    region = client.get("region_name") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    try:
        credentials, session_region = _credentials(s3fs_kwargs, env)
    except Exception:  # no credentials, unknown profile: s3fs reports it in its words
        return None
    if credentials is None:
        return None
    return S3Reader(
        credentials,
        endpoint=str(endpoint) if endpoint else None,
        region=str(region or session_region or DEFAULT_REGION),
        connect_timeout=float(config.get("connect_timeout", 5)),
        read_timeout=float(config.get("read_timeout", 30)),
        connections=int(config.get("max_pool_connections", 10)),
        ca_bundle=env.get("AWS_CA_BUNDLE") or None,
    )


def _config_names_endpoint(env: Mapping[str, str]) -> bool:
    """An `endpoint_url` in the AWS config file would send s3fs elsewhere than AWS."""
    path = env.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config")
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return "endpoint_url" in stream.read()
    except OSError:
        return False


def _credentials(kwargs: Mapping[str, Any], env: Mapping[str, str]) -> tuple[Any, str | None]:
    """Credentials in botocore's order of precedence, as s3fs would resolve them:
    explicit keys, then a named profile, then the environment, then botocore's chain."""
    if kwargs.get("key") and kwargs.get("secret"):
        return Keys(kwargs["key"], kwargs["secret"], kwargs.get("token") or None), None
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not kwargs.get("profile") and key and secret:
        token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN") or None
        return Keys(key, secret, token), None
    import botocore.session

    session = botocore.session.Session(profile=kwargs.get("profile") or None)
    found = session.get_credentials()
    region = session.get_config_variable("region")
    return (found.get_frozen_credentials() if found is not None else None), region


class S3Reader:
    def __init__(
        self,
        credentials: Any,
        *,
        endpoint: str | None,
        region: str,
        connect_timeout: float,
        read_timeout: float,
        connections: int,
        ca_bundle: str | None = None,
        page_size: int = 1000,
    ) -> None:
        import urllib3

        self.credentials = credentials
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        plain_http = bool(self.endpoint and self.endpoint.startswith("http://"))
        self.region = region
        self.page_size = page_size
        self._region_lock = threading.Lock()
        self._pool = urllib3.PoolManager(
            maxsize=max(1, connections),
            retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle or (None if plain_http else _default_ca_bundle()),
        )

    # What RemoteStore asks ------------------------------------------------------------

    def get(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """The object's bytes [start, end); FileNotFoundError when there is no such key."""
        bucket, key = _split(path)
        headers = {}
        if start is not None or end is not None:
            first = start or 0
            if first < 0 or (end is not None and end <= first):
                raise Declined("range")
            headers["Range"] = f"bytes={first}-" + ("" if end is None else str(end - 1))
        status, _, body = self._send(bucket, key, {}, headers)
        if status in (200, 206):
            return body
        if status == 404 and _error_code(body) == "NoSuchKey":
            raise FileNotFoundError(path)
        raise Declined(f"GET {status}")

    def ls(self, path: str) -> list[str]:
        """Files and sub-folders directly in a folder, as s3fs names them ("bucket/key");
        FileNotFoundError when there are none."""
        bucket, key = _split(path)
        prefix = key.rstrip("/") + "/" if key else ""
        names = [
            f"{bucket}/{name.rstrip('/')}"
            for name in self._list(bucket, prefix, "/")
            if name != prefix
        ]
        if not names:
            raise FileNotFoundError(path)
        return names

    def find(self, path: str) -> list[str]:
        """Every file below a folder ("bucket/key"), none when it is empty."""
        bucket, key = _split(path)
        prefix = key.rstrip("/") + "/" if key else ""
        return [f"{bucket}/{name}" for name in self._list(bucket, prefix, "") if name != prefix]

    # Requests -----------------------------------------------------------------------------

    def _list(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        from xml.etree import ElementTree

        names: list[str] = []
        token: str | None = None
        while True:
            query = {
                "list-type": "2",
                "prefix": prefix,
                "encoding-type": "url",
                "max-keys": str(self.page_size),
            }
            if delimiter:
                query["delimiter"] = delimiter
            if token:
                query["continuation-token"] = token
            status, _, body = self._send(bucket, "", query, {})
            if status != 200:
                raise Declined(f"LIST {status}")
            try:
                root = ElementTree.fromstring(body)
            except ElementTree.ParseError:
                raise Declined("LIST: not XML") from None
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for entry in root.iterfind(f"{ns}Contents"):
                names.append(urllib.parse.unquote_plus(entry.findtext(f"{ns}Key") or ""))
            for entry in root.iterfind(f"{ns}CommonPrefixes"):
                names.append(urllib.parse.unquote_plus(entry.findtext(f"{ns}Prefix") or ""))
            token = root.findtext(f"{ns}NextContinuationToken")
            if root.findtext(f"{ns}IsTruncated") != "true":
                return names
            if not token:
                raise Declined("LIST: truncated without a continuation token")

    def _send(
        self, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, Mapping[str, str], bytes]:
        region = self.region
        status, answer, body = self._signed_get(
            self._url(bucket, key, query, region), region, headers
        )
        moved = answer.get("x-amz-bucket-region")
        if status in (301, 307, 400) and self.endpoint is None and moved and moved != region:
            with self._region_lock:
                self.region = moved
            url = self._url(bucket, key, query, moved)
            status, answer, body = self._signed_get(url, moved, headers)
        return status, answer, body

    def _signed_get(
        self, url: str, region: str, headers: dict[str, str]
    ) -> tuple[int, Mapping[str, str], bytes]:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=url, headers=headers)
        S3SigV4Auth(self.credentials, "s3", region).add_auth(request)
        try:
            response = self._pool.request(
                "GET", url, headers=dict(request.headers.items()), redirect=False
            )
        except Exception as exc:
            if _is_connection_failure(exc):
                raise
            raise Declined(f"GET failed: {exc}") from exc
        return response.status, response.headers, response.data

    def _url(self, bucket: str, key: str, query: dict[str, str], region: str) -> str:
        path = urllib.parse.quote(key, safe="/~")
        encoded = urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote)
        tail = f"?{encoded}" if encoded else ""
        if self.endpoint is not None:
            return f"{self.endpoint}/{bucket}/{path}{tail}"
        host = "s3.amazonaws.com" if region == DEFAULT_REGION else f"s3.{region}.amazonaws.com"
        if _virtual_hostable(bucket):
            return f"https://{bucket}.{host}/{path}{tail}"
        return f"https://{host}/{bucket}/{path}{tail}"


def _default_ca_bundle() -> str:
    from botocore.httpsession import get_cert_path  # the bundle botocore itself would use

    return str(get_cert_path(True))


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    if not bucket:
        raise Declined("no bucket in path")
    return bucket, key


def _virtual_hostable(bucket: str) -> bool:
    """A bucket name that is one DNS label (no dots: TLS wildcard certificates)."""
    return _DNS_LABEL.fullmatch(bucket) is not None


def _error_code(body: bytes) -> str | None:
    start = body.find(b"<Code>")
    end = body.find(b"</Code>", start)
    if start < 0 or end < 0:
        return None
    return body[start + len(b"<Code>") : end].decode("utf-8", "replace")


def _is_connection_failure(exc: BaseException) -> bool:
    import urllib3.exceptions as errors

    return isinstance(
        exc, (errors.NewConnectionError, errors.ConnectTimeoutError, errors.ReadTimeoutError)
    )
