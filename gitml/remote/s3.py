"""S3 remotes: the storage options s3fs gets, and the filesystem the store uses: reads
through `s3_reads.S3Reader` (signed GETs and LISTs without s3fs) while it answers,
everything else through s3fs, imported and built on first use.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from typing import Any

from gitml.errors import RemoteError
from gitml.remote import sizes
from gitml.remote.config import RemoteConfig
from gitml.remote.failures import translated
from gitml.remote.s3_reads import Declined, S3Reader, reader_for

_S3_TIMEOUTS = {
    "connect_timeout": 5,
    "read_timeout": 30,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
_S3_ENV_OVERRIDES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), ("endpoint_url",)),
    (("AWS_PROFILE",), ("profile",)),
    (("AWS_REGION", "AWS_DEFAULT_REGION"), ("region", "region_name")),
    (
        ("AWS_ACCESS_KEY_ID",),
        ("key", "secret", "token", "access_key_id", "secret_access_key", "session_token"),
    ),
)


def s3_kwargs(
    options: dict[str, Any], env: dict[str, str] | os._Environ[str], jobs: int
) -> dict[str, Any]:
    """s3fs.S3FileSystem's arguments for a remote's options: the standard AWS variables
    beat configured options, gitml's spellings become s3fs's, timeouts are short."""
    opts = dict(options)
    for env_names, keys in _S3_ENV_OVERRIDES:
        if any(env.get(n) for n in env_names):
            for key in keys:
                opts.pop(key, None)
    aliases = {"access_key_id": "key", "secret_access_key": "secret", "session_token": "token"}
    for alias, key in aliases.items():
        if alias in opts:
            opts[key] = opts.pop(alias)
    client_kwargs = dict(opts.pop("client_kwargs", {}) or {})
    for key in ("region", "region_name"):
        if key in opts:
            client_kwargs["region_name"] = opts.pop(key)
    # A fresh copy each time: botocore rewrites the nested `retries` dict in place.
    config_kwargs = {
        **copy.deepcopy(_S3_TIMEOUTS),
        "max_pool_connections": jobs + sizes.LARGE_SLOTS * sizes.PART_CONCURRENCY,
    }
    config_kwargs.update(opts.pop("config_kwargs", {}) or {})
    return {
        **opts,
        "client_kwargs": client_kwargs,
        "config_kwargs": config_kwargs,
        "skip_instance_cache": True,
        "use_listings_cache": False,
    }


def s3_filesystem(remote: RemoteConfig, jobs: int) -> tuple[S3FS, str]:
    """The filesystem and root (`bucket/prefix`) of an s3:// remote; no request yet."""
    kwargs = s3_kwargs(remote.fs_options, os.environ, jobs)

    def s3fs_filesystem() -> Any:
        # Built on first use, inside whatever operation needs it: the same translation as
        # the backend's, so a broken install or option is one line there too.
        with translated(remote.name, "connecting"):
            try:
                import s3fs
            except ImportError as exc:
                raise RemoteError(
                    f"remote '{remote.name}': {remote.protocol}:// needs s3fs (pip install s3fs)"
                ) from exc
            fs = s3fs.S3FileSystem(**kwargs)
        fs.retries = 2  # s3fs retries stack on botocore's: fail fast when the endpoint is down
        return fs

    root = remote.url.split("://", 1)[1].rstrip("/")
    return S3FS(reader_for(kwargs, os.environ), s3fs_filesystem), root


class S3FS:
    """What RemoteStore needs of s3fs: `cat_file`, `ls` and `find` through an S3Reader while
    it answers, everything else (and every read after one it declined) through s3fs, built
    on first use."""

    def __init__(self, reader: S3Reader | None, make_full: Callable[[], Any]) -> None:
        self._reader = reader
        self._make_full = make_full
        self._full: Any = None
        self._lock = threading.Lock()

    @property
    def full(self) -> Any:
        with self._lock:
            if self._full is None:
                self._full = self._make_full()
            return self._full

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.full, name)

    def _try(self, read: Callable[[S3Reader], Any]) -> tuple[bool, Any]:
        reader = self._reader
        if reader is None:
            return False, None
        try:
            return True, read(reader)
        except Declined:
            self._reader = None
            return False, None

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        done, data = self._try(lambda reader: reader.get(path, start, end))
        if done:
            return bytes(data)
        return bytes(self.full.cat_file(path, start=start, end=end, **kwargs))

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> list[Any]:
        if not detail:
            done, names = self._try(lambda reader: reader.ls(path))
            if done:
                return list(names)
        return list(self.full.ls(path, detail=detail, **kwargs))

    def find(self, path: str, **kwargs: Any) -> list[Any]:
        if not kwargs:
            done, names = self._try(lambda reader: reader.find(path))
            if done:
                return list(names)
        return list(self.full.find(path, **kwargs))
