"""Where things live on a remote (docs/spec/remote.md): ids to paths and paths back to ids,
side by side. Pure string work; no I/O.

    <root>/gitml-remote.json                          {"format": 2} (3: chunked manifests)
    <root>/objects/blake3/<2 hex>/<62 hex>            one object, raw bytes (format 1)
    <root>/packs/<pack id>.pack, .idx                 small objects and chunks, packed
    <root>/chunks/blake3/<2 hex>/<62 hex>             chunk list of a large file or manifest
    <root>/dirs/blake3/<2 hex>/<62 hex>               empty: "this manifest's files are here"
    <root>/runs/<key[:2]>/<key[2:]>/<entry hex>       empty run-cache marker (key -> entry)
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator

from gitml.cache import object_relpath
from gitml.errors import FormatError
from gitml.hashing import ALGORITHM, Oid
from gitml.packfile import check_pack_name

FORMAT = 2  # what a writer writes first
FORMAT_CHUNKED_MANIFESTS = 3  # what it raises the marker to before a chunked manifest
FORMAT_MAX = 3  # the newest format this gitml reads and writes
MARKER = "gitml-remote.json"
OBJECTS = "objects"
PACKS = "packs"
CHUNKS = "chunks"
DIRS = "dirs"
RUNS = "runs"
TEMP_PREFIX = ".tmp-"
_HEX = frozenset("0123456789abcdef")


class Layout:
    """The paths of one remote, below `root`."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}"

    def relative(self, path: str) -> str | None:
        """`path` relative to the root, or None when it lies elsewhere."""
        prefix = self.root.strip("/") + "/"
        found = str(path).strip("/")
        return found[len(prefix) :] if found.startswith(prefix) else None

    @property
    def marker(self) -> str:
        return self.path(MARKER)

    # Sharded folders (objects/, chunks/, dirs/): id -> path, path -> id -------------------

    def sharded(self, folder: str, oid: Oid) -> str:
        return f"{self.root}/{folder}/{object_relpath(oid)}"

    @staticmethod
    def oids_from_paths(paths: Iterable[str]) -> Iterator[Oid]:
        """The ids named by paths of a sharded folder; other names are skipped."""
        for path in paths:
            parts = str(path).rstrip("/").rsplit("/", 3)
            if len(parts) < 3:
                continue
            algorithm, shard, rest = parts[-3], parts[-2], parts[-1]
            if algorithm != ALGORITHM or len(shard) != 2 or len(rest) != 62:
                continue
            with contextlib.suppress(FormatError):
                yield Oid.from_hex(shard + rest)

    def folder(self, folder: str) -> str:
        return f"{self.root}/{folder}"

    def shard(self, folder: str, prefix: str) -> str:
        """The shard folder holding ids that start with the two hex digits `prefix`."""
        return f"{self.root}/{folder}/{ALGORITHM}/{prefix}"

    def object_path(self, oid: Oid) -> str:
        return self.sharded(OBJECTS, oid)

    def chunk_list_path(self, oid: Oid) -> str:
        return self.sharded(CHUNKS, oid)

    def dir_record_path(self, manifest_oid: Oid) -> str:
        return self.sharded(DIRS, manifest_oid)

    # Packs: pack id -> paths, file name -> pack id -------------------------------------

    def pack_path(self, pack_id: str, ext: str) -> str:
        return f"{self.root}/{PACKS}/{pack_id}.{ext}"

    @staticmethod
    def pack_id_of(path: str) -> str | None:
        """The pack id of a `packs/<id>.idx` path: None for other names, `.pack` files
        included (a pack counts once its index is written)."""
        return check_pack_name(str(path).rstrip("/").rsplit("/", 1)[-1])

    # Run-cache markers: (key, entry) -> path, path -> (key, entry) ---------------------

    def runs_folder(self, key: str | None = None) -> str:
        base = f"{self.root}/{RUNS}"
        return base if key is None else f"{base}/{key[:2]}/{key[2:]}"

    @staticmethod
    def markers_from_paths(paths: Iterable[str]) -> Iterator[tuple[str, Oid]]:
        for path in paths:
            parts = str(path).rstrip("/").rsplit("/", 3)
            if len(parts) < 3:
                continue
            key = parts[-3] + parts[-2]
            if len(parts[-3]) != 2 or len(key) != 64 or not set(key) <= _HEX:
                continue
            with contextlib.suppress(FormatError):
                yield key, Oid.from_hex(parts[-1])


def temp_beside(path: str) -> str:
    """A fresh temporary name in the folder of `path` (readers ignore TEMP_PREFIX names)."""
    head, _, _ = path.rpartition("/")
    return f"{head}/{TEMP_PREFIX}{uuid.uuid4().hex}"
