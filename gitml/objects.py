"""Where a reader gets objects: the local cache first, then a remote; always verified.

Used by history commands (diff, ls, gc), `gitml get` and the Python API. The remote is
opened only when an object is missing locally (fsspec/s3fs imports cost ~0.5 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitml.cache import Cache
from gitml.errors import GitmlError, IntegrityError, ObjectNotFoundError, RemoteNotConfiguredError
from gitml.hashing import Oid, hash_bytes
from gitml.manifest import Manifest, parse_manifest
from gitml.remote.verified_stream import CacheBlob, RemoteBlob, open_verified

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore


class ObjectSource:
    """Objects by id from `cache` (may be None) or from the remote `open_store()` gives.

    `store_fetched`: manifests read from the remote are also added to the cache (as
    `gitml fetch` would), so the next command finds them locally.
    """

    def __init__(
        self,
        cache: Cache | None,
        open_store: Callable[[], RemoteStore] | None,
        *,
        store_fetched: bool = False,
    ) -> None:
        self.cache = cache
        self._open_store = open_store
        self._store: RemoteStore | None = None
        self._store_error: GitmlError | None = None
        self.store_fetched = store_fetched
        self._manifests: dict[Oid, Manifest] = {}
        self._lock = threading.Lock()

    # The remote -----------------------------------------------------------------------

    def store(self) -> RemoteStore:
        """The remote, opened on first use; raises the same error every time after."""
        with self._lock:
            if self._store is not None:
                return self._store
            if self._store_error is not None:
                raise self._store_error
            if self._open_store is None:
                self._store_error = RemoteNotConfiguredError("no remote is configured")
                raise self._store_error
            try:
                store = self._open_store()
                store.check_format()
            except GitmlError as exc:
                self._store_error = exc
                raise
            self._store = store
            return store

    def _unavailable(self, oid: Oid, label: str, exc: GitmlError) -> ObjectNotFoundError:
        where = f"{label}: " if label else ""
        if isinstance(exc, RemoteNotConfiguredError):
            return ObjectNotFoundError(
                f"{where}object {oid} is not in the cache and {exc.message}",
                hint=exc.hint,
            )
        return ObjectNotFoundError(f"{where}{exc.message}")

    # Reading ----------------------------------------------------------------------------

    def has_local(self, oid: Oid) -> bool:
        return self.cache is not None and self.cache.exists(oid)

    def manifest(self, oid: Oid, label: str) -> Manifest:
        """A directory's manifest, verified and parsed strictly; `label` names the pointer."""
        cached = self._manifests.get(oid)
        if cached is not None:
            return cached
        where = f"manifest {oid} of {label}" if label else f"manifest {oid}"
        data: bytes | None = None
        if self.cache is not None and self.cache.exists(oid):
            data = self.cache.read_bytes(oid)
            if hash_bytes(data) != oid:
                self.cache.quarantine(oid)
                raise IntegrityError(f"{where}: cache object is corrupt; removed it")
        else:
            try:
                data = self.store().read_object(oid, label)
            except (ObjectNotFoundError, RemoteNotConfiguredError) as exc:
                raise self._unavailable(oid, label, exc) from None
        manifest = parse_manifest(data, where)
        if self.store_fetched and self.cache is not None and not self.cache.exists(oid):
            self.cache.add_bytes(data, oid)
        self._manifests[oid] = manifest
        return manifest

    def try_manifest(self, oid: Oid, label: str) -> Manifest | None:
        """The manifest, or None when neither the cache nor the remote has it."""
        try:
            return self.manifest(oid, label)
        except ObjectNotFoundError:
            return None

    def open(self, oid: Oid, size: int, label: str, mode: str = "rb", **text: Any) -> Any:
        """A verifying stream of one file object (see gitml.remote.verified_stream)."""
        if self.cache is not None and self.cache.exists(oid):
            blob: Any = CacheBlob(self.cache.path(oid), oid, label)
        else:
            try:
                store = self.store()
            except RemoteNotConfiguredError as exc:
                raise self._unavailable(oid, label, exc) from None
            blob = RemoteBlob(store, oid, size, label)
        return open_verified(blob, oid, size, label, mode, **text)

    def url(self, oid: Oid) -> str:
        """The URL of the object's whole bytes on the remote (see RemoteStore.object_url)."""
        return self.store().object_url(oid)
