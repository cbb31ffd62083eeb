"""Run metadata that varies from run to run (when, where, from which commit). It goes to
run-cache entries, experiment records and `repro --json`; never to `gitml.lock`, which
must stay byte-identical when nothing changed."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

from gitml import __version__, git


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def is_dirty(root: Path) -> bool:
    """Whether git-tracked files differ from HEAD (untracked files do not count)."""
    out = git.run_bytes(root, ["status", "--porcelain", "--untracked-files=no", "-z"])
    return bool(out.strip(b"\0"))


def host_meta(root: Path) -> dict[str, object]:
    """Where and from what a run started: host, gitml version, HEAD, dirty flag."""
    return {
        "host": socket.gethostname(),
        "gitml_version": __version__,
        "head": git.head_commit(root),
        "dirty": is_dirty(root),
    }
