"""Run-cache markers on a remote: `runs/<key[:2]>/<key[2:]>/<entry hex>`, empty files
saying "the run with this key produced this entry, and its objects are here"
(docs/spec/run-cache.md)."""

from __future__ import annotations

from gitml.hashing import Oid
from gitml.remote.backend import Backend
from gitml.remote.layout import Layout


def markers(backend: Backend, layout: Layout, key: str | None = None) -> set[tuple[str, Oid]]:
    """(run key, entry object id) of every marker, or of one key's: one listing.
    Remotes that cannot list (plain HTTP) report none."""
    if not backend.caps.can_list:
        return set()
    with backend.errors("listing the run-cache"):
        paths = backend.listing(layout.runs_folder(key), recursive=key is None)
    return set(layout.markers_from_paths(paths))


def add_marker(backend: Backend, layout: Layout, relpath: str) -> None:
    """Write one empty marker (`runcache.marker_relpath`); its objects must be here."""
    with backend.errors("writing a run-cache marker"):
        backend.write(layout.path(relpath), b"")
