"""Loose objects: one object alone under `objects/blake3/<2>/<62>`, its raw bytes (all
of format 1; in format 2, files of PACK_MAX or more below CHUNK_MIN, and anything pushed
with chunking off). Small ones move as one buffer, large ones stream through a temporary
file; every byte is verified against the id before it is kept on either side.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitml.cache import Cache
from gitml.errors import IntegrityError, ObjectNotFoundError
from gitml.hashing import Oid, hash_bytes, hash_file
from gitml.remote import sizes
from gitml.remote.backend import Backend
from gitml.remote.failures import is_missing_bucket, named
from gitml.remote.layout import Layout


class Loose:
    def __init__(self, backend: Backend, layout: Layout, large: threading.Semaphore) -> None:
        self.backend = backend
        self.layout = layout
        self._large = large  # large transfers at a time, shared with chunked files

    def upload(
        self, oid: Oid, source: str | Path, size: int, on_bytes: Callable[[int], None]
    ) -> None:
        target = self.layout.object_path(oid)
        if size < sizes.SMALL_MAX:
            with open(source, "rb") as handle:
                data = handle.read()
            if hash_bytes(data) != oid:
                raise IntegrityError(f"cache object {oid} is corrupt; not uploading it")
            with self.backend.errors(f"uploading {oid}"):
                self.backend.write(target, data)
            on_bytes(len(data))
            return
        with self._large:
            self.backend.put_verified(oid, str(source), target)
        on_bytes(size)

    def read(self, oid: Oid, label: str) -> bytes:
        """A loose object's bytes, verified."""
        with self.backend.errors(f"downloading {oid}"):
            try:
                data = self.backend.cat(self.layout.object_path(oid))
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                raise self._not_here(oid, label) from None
        self._verify(oid, hash_bytes(data), label)
        return data

    def download(
        self, oid: Oid, size: int, cache: Cache, on_bytes: Callable[[int], None], label: str
    ) -> None:
        if size < sizes.SMALL_MAX:
            data = self.read(oid, label)
            cache.add_bytes(data, oid)
            on_bytes(len(data))
            return
        with self._large:
            tmp = cache.new_temp()
            try:
                with self.backend.errors(f"downloading {oid}"):
                    try:
                        self.backend.get_file(self.layout.object_path(oid), str(tmp))
                    except FileNotFoundError as exc:
                        if is_missing_bucket(exc):
                            raise
                        raise self._not_here(oid, label) from None
                self._verify(oid, hash_file(tmp), label)
                cache.add_verified_temp(tmp, oid)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        on_bytes(size)

    def open(self, oid: Oid, label: str) -> Any:
        """A read stream in bounded blocks (unverified)."""
        with self.backend.errors(f"opening {oid}"):
            try:
                return self.backend.open(self.layout.object_path(oid))
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                raise self._not_here(oid, label) from None

    def _verify(self, oid: Oid, actual: Oid, label: str) -> None:
        if actual != oid:
            raise IntegrityError(
                f"{named(oid, label)} on remote '{self.backend.name}' is corrupt "
                f"(its bytes hash to {actual}); not stored"
            )

    def _not_here(self, oid: Oid, label: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(f"{named(oid, label)} is not on remote '{self.backend.name}'")
