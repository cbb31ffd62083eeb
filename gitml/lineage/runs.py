"""Run metadata (when, how long, where, from which commit) of the run that recorded a
lock entry, as the local run-cache holds it: `gitml.lock` never has it (SPEC 7.2)."""

from __future__ import annotations

import os
from typing import Any

from gitml.cache import Cache
from gitml.errors import GitmlError
from gitml.hashing import Oid
from gitml.pipeline import RUNS_DIR
from gitml.pipeline.model import LockEntry


def run_meta(cache: Cache, entry: LockEntry) -> dict[str, Any] | None:
    """The metadata of the newest run-cache entry with exactly this run's inputs and
    outputs, or None when the run-cache has none (run elsewhere and not pulled, or run
    before gitml recorded metadata)."""
    from gitml.pipeline.runcache import key_of_entry, parse, parse_meta

    key = key_of_entry(entry)
    directory = cache.root / RUNS_DIR / key[:2] / key[2:]
    try:
        markers = sorted(os.scandir(directory), key=lambda m: m.stat().st_mtime_ns, reverse=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    outs = {(o.path, o.oid) for o in entry.outs}
    for marker in markers:
        try:
            oid = Oid.from_hex(marker.name)
            data = cache.read_bytes(oid)
            where = f"run-cache entry {oid}"
            if {(o.path, o.oid) for o in parse(data, where).outs} != outs:
                continue
            meta = parse_meta(data, where)
        except (GitmlError, OSError):
            continue  # a missing or damaged entry says nothing about this run
        if meta:
            return meta
    return None
