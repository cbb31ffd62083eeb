"""The run-cache: earlier runs of a stage, looked up by their exact inputs.

Layout (docs/spec/run-cache.md):

    <cache>/blake3/..                         run entries are ordinary cache objects
    <cache>/runs/<key[:2]>/<key[2:]>/<entry>  empty marker: run key -> entry object id

The key is the BLAKE3 of (cmd, wdir, each dep's path and id, param values, out paths).
An entry is the canonical JSON of the run's lock entry (outs with their ids). Markers
are immutable and never conflict, so a remote can hold the same tree: push sends the
objects first and the marker last; pull verifies the entry before writing its marker.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gitml.cache import Cache
from gitml.errors import FormatError, GitmlError, IntegrityError
from gitml.hashing import Oid, hash_bytes, hex_digest
from gitml.pipeline import RUNS_DIR
from gitml.pipeline.lockfile import parse_entry, render_entry
from gitml.pipeline.model import LockedPath, LockEntry, ParamValues, Stage

ENTRY_HEADER = b"gitml-run 1\n"
_KEY_DOMAIN = b"gitml-run-key 1\n"
_KEY_LEN = 64


class RunSource(Protocol):
    """Where missing run-cache entries and objects can come from (a remote, for --pull)."""

    def fetch_runs(self, key: str) -> None:
        """Bring the markers and entry objects stored under `key` into the local cache."""

    def fetch_objects(self, oids: list[Oid]) -> None:
        """Bring these objects into the local cache (hash-verified); missing ones are skipped."""


def _canonical(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def eligible(stage: Stage) -> bool:
    """As DVC: only stages whose outs can all be restored from the cache, and that have inputs."""
    return (
        not stage.always_changed
        and bool(stage.outs)
        and all(o.cache and not o.persist for o in stage.outs)
        and bool(stage.deps or stage.params)
    )


def run_key(
    cmd: tuple[str, ...],
    cmd_is_list: bool,
    wdir: str,
    deps: tuple[LockedPath, ...],
    params: ParamValues,
    out_paths: list[str],
) -> str:
    payload = {
        "cmd": list(cmd) if cmd_is_list else cmd[0],
        "wdir": wdir,
        "deps": sorted([d.path, str(d.oid), d.is_dir] for d in deps),
        "params": params,
        "outs": sorted(out_paths),
    }
    return hex_digest(_KEY_DOMAIN + _canonical(payload))


def key_of_entry(entry: LockEntry) -> str:
    return run_key(
        entry.cmd, entry.cmd_is_list, entry.wdir, entry.deps, entry.params,
        [o.path for o in entry.outs],
    )  # fmt: skip


def render(entry: LockEntry, meta: dict[str, Any] | None = None) -> bytes:
    """The entry object; `meta` (when, how long, where, from which commit) rides along
    under "meta", outside the key, so it is pushed and pulled with the run."""
    data = render_entry(entry)
    if meta:
        data["meta"] = meta
    return ENTRY_HEADER + _canonical(data) + b"\n"


def _raw(data: bytes, where: str) -> Any:
    if not data.startswith(ENTRY_HEADER) or not data.endswith(b"\n"):
        raise FormatError(f"{where}: not a gitml run-cache entry")
    try:
        return json.loads(data[len(ENTRY_HEADER) : -1].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError(f"{where}: malformed run-cache entry") from None


def parse(data: bytes, where: str) -> LockEntry:
    raw = _raw(data, where)
    if isinstance(raw, dict):
        raw.pop("meta", None)  # entries without it (older runs) read the same
    return parse_entry(raw, where)


def parse_meta(data: bytes, where: str) -> dict[str, Any]:
    """The run metadata of an entry ({} for entries written before it was recorded)."""
    raw = _raw(data, where)
    meta = raw.get("meta") if isinstance(raw, dict) else None
    return meta if isinstance(meta, dict) else {}


def marker_relpath(key: str, entry_oid: Oid) -> str:
    """Path of a marker below the cache root; a remote uses the same path below its root."""
    return f"{RUNS_DIR}/{key[:2]}/{key[2:]}/{entry_oid.hexdigest}"


def _key_dir(cache: Cache, key: str) -> Path:
    return cache.root / RUNS_DIR / key[:2] / key[2:]


def add_marker(cache: Cache, key: str, entry_oid: Oid) -> None:
    """Record key -> entry; the entry object must already be in the cache."""
    if len(key) != _KEY_LEN or not all(c in "0123456789abcdef" for c in key):
        raise FormatError(f"invalid run-cache key {key[:80]!r}")
    directory = _key_dir(cache, key)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / entry_oid.hexdigest, os.O_WRONLY | os.O_CREAT, 0o444)
    os.close(fd)


def save(cache: Cache, entry: LockEntry, meta: dict[str, Any] | None = None) -> tuple[str, Oid]:
    """Store a successful run (with its metadata); returns (key, entry object id)."""
    oid = cache.add_bytes(render(entry, meta))
    key = key_of_entry(entry)
    add_marker(cache, key, oid)
    return key, oid


def check_entry(data: bytes, entry_oid: Oid, key: str) -> LockEntry:
    """Validate an entry fetched from anywhere: its bytes, its format, and its key."""
    actual = hash_bytes(data)
    if actual != entry_oid:
        raise IntegrityError(f"run-cache entry {entry_oid} hashes to {actual}")
    entry = parse(data, f"run-cache entry {entry_oid}")
    if key_of_entry(entry) != key:
        raise IntegrityError(f"run-cache entry {entry_oid} does not belong to run {key}")
    return entry


def iter_markers(cache: Cache) -> Iterator[tuple[str, Oid]]:
    """Every (key, entry object id) in the local run-cache."""
    base = cache.root / RUNS_DIR
    if not base.is_dir():
        return
    for shard in os.scandir(base):
        if len(shard.name) != 2 or not shard.is_dir():
            continue
        for rest in os.scandir(shard.path):
            key = shard.name + rest.name
            if len(key) != _KEY_LEN or not rest.is_dir():
                continue
            for marker in os.scandir(rest.path):
                with contextlib.suppress(FormatError):
                    yield key, Oid.from_hex(marker.name)


def _out_objects(cache: Cache, outs: tuple[LockedPath, ...]) -> tuple[list[Oid], list[Oid]]:
    """(objects present, objects missing) that restoring these outs needs."""
    present: list[Oid] = []
    missing: list[Oid] = []
    for out in outs:
        if not cache.exists(out.oid):
            missing.append(out.oid)
            continue
        present.append(out.oid)
        if out.is_dir:
            for item in cache.load_manifest(out.oid):
                (present if cache.exists(item.oid) else missing).append(item.oid)
    return present, missing


def entry_objects(cache: Cache, entry_oid: Oid) -> list[Oid]:
    """All objects a run entry needs (itself, its outs, their manifests and files).

    Raises ObjectNotFoundError/IntegrityError/FormatError when one is not in the cache:
    such an entry is not complete here and must not be pushed.
    """
    data = cache.read_bytes(entry_oid)
    if hash_bytes(data) != entry_oid:
        raise IntegrityError(f"run-cache entry {entry_oid} is corrupt")
    entry = parse(data, f"run-cache entry {entry_oid}")
    present, missing = _out_objects(cache, entry.outs)
    if missing:
        raise GitmlError(f"run-cache entry {entry_oid}: {len(missing)} object(s) not in the cache")
    return [entry_oid, *dict.fromkeys(present)]


@contextlib.contextmanager
def claim(cache: Cache, key: str) -> Iterator[None]:
    """Hold the run `key` while running it (waiting for any other holder): processes that
    share a cache run a given stage run once; the others then find it in the run-cache.
    `<cache>/runs/claims/` is not a key shard (not two hex digits)."""
    import fcntl

    directory = cache.root / RUNS_DIR / "claims"
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / key, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Hit:
    key: str
    entry_oid: Oid
    entry: LockEntry


def lookup(cache: Cache, key: str, source: RunSource | None = None) -> Hit | None:
    """The newest complete entry for `key` whose out objects are all in the cache."""
    if source is not None:
        source.fetch_runs(key)
    directory = _key_dir(cache, key)
    try:
        markers = [(m.stat().st_mtime_ns, m.name) for m in os.scandir(directory)]
    except (FileNotFoundError, NotADirectoryError):
        return None
    for _, name in sorted(markers, reverse=True):
        try:
            oid = Oid.from_hex(name)
            data = cache.read_bytes(oid)
            entry = check_entry(data, oid, key)
        except GitmlError:
            continue
        try:
            _, missing = _out_objects(cache, entry.outs)
            if missing and source is not None:
                source.fetch_objects(missing)
                _, missing = _out_objects(cache, entry.outs)
                if missing and source is not None:  # files of newly fetched manifests
                    source.fetch_objects(missing)
                    _, missing = _out_objects(cache, entry.outs)
        except GitmlError:
            continue
        if not missing:
            return Hit(key, oid, entry)
    return None
