"""Directory records (`dirs/blake3/<2>/<62>`, empty files): "this manifest and every file
it lists are on the remote", so a later push or status skips the directory's files
without asking about each. A caller deleting files of a directory deletes its record
first."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from gitml.hashing import Oid
from gitml.remote.backend import Backend
from gitml.remote.layout import DIRS, Layout
from gitml.remote.listing import list_ids, present_in


def complete(
    backend: Backend, layout: Layout, manifest_oids: Collection[Oid], jobs: int
) -> set[Oid]:
    """Those directory manifests whose files the remote is known to hold."""
    if not backend.caps.can_list:
        return set()
    return present_in(backend, layout, DIRS, manifest_oids, jobs)


def iter_complete(backend: Backend, layout: Layout) -> Iterator[Oid]:
    """Every directory record on the remote (one listing)."""
    return list_ids(backend, layout, DIRS)


def mark(backend: Backend, layout: Layout, manifest_oid: Oid) -> None:
    with backend.errors("writing a directory record"):
        backend.write(layout.dir_record_path(manifest_oid), b"")


def unmark(backend: Backend, layout: Layout, manifest_oids: Iterable[Oid]) -> None:
    with backend.errors("removing directory records"):
        backend.rm([layout.dir_record_path(oid) for oid in manifest_oids])
