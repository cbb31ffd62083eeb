"""DVC's content (its cache `.dvc/cache/files/md5/`, or a DVC remote through fsspec) into
gitml's cache: every byte is verified against DVC's md5 while it is hashed for gitml.

A directory is DVC's `<md5>.dir` listing (JSON: md5 and relpath of each file); it becomes
a gitml manifest. Nothing in the workspace is read or written here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gitml.cache import Cache
from gitml.errors import FormatError, GitmlError, IntegrityError
from gitml.hashing import Oid, new_hasher
from gitml.manifest import Entry, Manifest
from gitml.paths import validate_relpath
from gitml.pipeline.model import LockedPath

CHUNK = 1024 * 1024


class DvcDataMissing(GitmlError):
    """An object is neither in DVC's cache nor (with --fetch) on its remote."""


@dataclass
class DvcRemote:
    name: str
    store: Any  # gitml.remote.store.RemoteStore: its fs and root, DVC's layout below the root


class DvcStore:
    def __init__(self, cache_dirs: list[Path], remote: DvcRemote | None) -> None:
        self.cache_dirs = cache_dirs
        self.remote = remote

    def _local(self, md5: str) -> Path | None:
        for base in self.cache_dirs:
            for path in (base / "files" / "md5" / md5[:2] / md5[2:], base / md5[:2] / md5[2:]):
                if path.is_file():
                    return path
        return None

    def has(self, md5: str) -> bool:
        return self._local(md5) is not None

    @contextlib.contextmanager
    def open(self, md5: str) -> Iterator[IO[bytes]]:
        local = self._local(md5)
        if local is not None:
            with open(local, "rb") as f:
                yield f
            return
        if self.remote is None:
            raise DvcDataMissing(f"object {md5} is not in DVC's cache")
        store = self.remote.store
        for path in (f"{store.root}/files/md5/{md5[:2]}/{md5[2:]}",
                     f"{store.root}/{md5[:2]}/{md5[2:]}"):  # fmt: skip
            with store.errors(f"reading {md5}"):
                exists = store.fs.exists(path)
            if exists:
                with store.errors(f"reading {md5}"), store.fs.open(path, "rb") as f:
                    yield f
                return
        raise DvcDataMissing(f"object {md5} is neither in DVC's cache nor on '{self.remote.name}'")


class _Dos2Unix:
    """md5 of the bytes with CRLF turned into LF, as DVC 2 hashed text files."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5()
        self.pending_cr = False

    def update(self, data: bytes) -> None:
        if self.pending_cr:
            data = b"\r" + data
        self.pending_cr = data.endswith(b"\r")
        if self.pending_cr:
            data = data[:-1]
        self.md5.update(data.replace(b"\r\n", b"\n"))

    def hexdigest(self) -> str:
        if self.pending_cr:
            self.md5.update(b"\r")
            self.pending_cr = False
        return self.md5.hexdigest()


def import_file(store: DvcStore, cache: Cache, md5: str, legacy: bool, label: str) -> Oid:
    """Copy DVC object `md5` into gitml's cache, verified; returns its gitml id."""
    plain = hashlib.md5()
    crlf = _Dos2Unix() if legacy else None
    ours = new_hasher()
    tmp = cache.new_temp()
    try:
        with store.open(md5) as source, open(tmp, "wb") as target:
            while chunk := source.read(CHUNK):
                plain.update(chunk)
                if crlf is not None:
                    crlf.update(chunk)
                ours.update(chunk)
                target.write(chunk)
        if md5 not in (plain.hexdigest(), crlf.hexdigest() if crlf else None):
            raise IntegrityError(f"{label}: DVC object {md5} does not match its md5 (corrupt)")
        oid = Oid(ours.hexdigest())
        if cache.exists(oid):
            os.unlink(tmp)
        else:
            cache.add_verified_temp(tmp, oid)
        return oid
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _listing(store: DvcStore, md5_dir: str, label: str) -> list[dict[str, Any]]:
    with store.open(md5_dir) as f:
        data = f.read()
    if hashlib.md5(data).hexdigest() != md5_dir.removesuffix(".dir"):
        raise IntegrityError(f"{label}: DVC listing {md5_dir} does not match its md5 (corrupt)")
    try:
        entries = json.loads(data)
    except ValueError:
        raise FormatError(f"{label}: DVC listing {md5_dir} is not JSON") from None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("md5"), str) and isinstance(e.get("relpath"), str)
        for e in entries
    ):
        raise FormatError(f"{label}: DVC listing {md5_dir} is not a list of files")
    return entries


def import_object(
    store: DvcStore, cache: Cache, relpath: str, md5: str, legacy: bool, executable: bool
) -> LockedPath:
    """A DVC file or directory (`<md5>.dir`) as a gitml LockedPath, its bytes cached."""
    if not md5.endswith(".dir"):
        oid = import_file(store, cache, md5, legacy, relpath)
        return LockedPath(relpath, oid, os.stat(cache.path(oid)).st_size, None, executable)
    entries = []
    for item in _listing(store, md5, relpath):
        name = posixpath.normpath(item["relpath"].replace("\\", "/"))
        validate_relpath(name, what=f"{relpath}: DVC listing {md5}")
        oid = import_file(store, cache, item["md5"], legacy, f"{relpath}/{name}")
        size = os.stat(cache.path(oid)).st_size
        entries.append(Entry(name, oid, size, item.get("isexec") is True))
    manifest = Manifest.build(entries)
    cache.add_hashed_bytes(manifest.render(), manifest.oid())
    return LockedPath(relpath, manifest.oid(), manifest.size, manifest.nfiles)


def file_md5(path: Path, legacy: bool) -> set[str]:
    """The md5 (and, for DVC 2 hashes, the CRLF-normalised md5) of a workspace file."""
    plain = hashlib.md5()
    crlf = _Dos2Unix() if legacy else None
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            plain.update(chunk)
            if crlf is not None:
                crlf.update(chunk)
    return {plain.hexdigest(), *([crlf.hexdigest()] if crlf else [])}
