"""Stat cache: (path, inode, mtime_ns, size) -> oid, so unchanged files are never re-read.

A hint only: an entry is trusted when all four match and the file was not modified within
the racy window before the entry was recorded (git's racy-clean rule); anything else
costs a rehash, never a wrong answer. Loaded in bulk once per command (a point query per
file is 8x slower, shared/research §5) and written in one transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from gitml.hashing import Oid

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat (
    path TEXT PRIMARY KEY,
    ino INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    oid TEXT NOT NULL,
    trusted INTEGER NOT NULL
) WITHOUT ROWID
"""
# A directory output's manifest id, keyed by a digest of every file's (path, stat): status
# on an unchanged 20,000-file directory then needs the stats, not 20,000 lookups and a
# manifest rebuild.
_DIR_SCHEMA = """
CREATE TABLE IF NOT EXISTS dir (
    path TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    oid TEXT NOT NULL,
    size INTEGER NOT NULL,
    nfiles INTEGER NOT NULL
) WITHOUT ROWID
"""
# Directory manifests whose every object was seen in the cache, keyed by a digest of the
# cache's shard directories (adding or removing an object changes its shard's mtime): a
# no-op status then stats 257 directories instead of listing them and reading the manifest.
_COMPLETE_SCHEMA = """
CREATE TABLE IF NOT EXISTS complete (
    oid TEXT PRIMARY KEY,
    shards TEXT NOT NULL
) WITHOUT ROWID
"""
# Filesystems with whole-second timestamps get git's wider window.
_RACY_NS_FINE = 50_000_000
_RACY_NS_COARSE = 2_000_000_000

StatKey = tuple[int, int, int]  # (ino, mtime_ns, size)


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _is_racy(mtime_ns: int, now_ns: int) -> bool:
    window = _RACY_NS_COARSE if mtime_ns % 1_000_000_000 == 0 else _RACY_NS_FINE
    return now_ns - mtime_ns < window


def racy_wait_ns(mtime_ns: int, now_ns: int) -> int | None:
    """How long until a change at `mtime_ns` is outside the racy window: 0 when it is
    already; None on whole-second timestamps (git's 2 s window, too long to wait for)."""
    if mtime_ns % 1_000_000_000 == 0:
        return 0 if not _is_racy(mtime_ns, now_ns) else None
    return max(0, mtime_ns + _RACY_NS_FINE - now_ns)


class StateDB:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, tuple[int, int, int, str, int]] | None = None
        self._pending: dict[str, tuple[int, int, int, str, int]] = {}
        self._pending_dirs: dict[str, tuple[str, str, int, int]] = {}
        self._pending_complete: dict[str, str] = {}

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        conn.execute(_DIR_SCHEMA)
        conn.execute(_COMPLETE_SCHEMA)
        return conn

    def _load(self) -> dict[str, tuple[int, int, int, str, int]]:
        if self._entries is None:
            self._entries = {}
            if self.path.exists():
                try:
                    with contextlib.closing(self._connect()) as conn:
                        for row in conn.execute("SELECT * FROM stat"):
                            self._entries[row[0]] = row[1:]
                except sqlite3.DatabaseError:
                    # A corrupt hint database costs rehashing, never a wrong answer.
                    self._entries = {}
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)
        return self._entries

    def get(self, relpath: str, st: os.stat_result) -> Oid | None:
        row = self._load().get(relpath)
        if row is None:
            return None
        ino, mtime_ns, size, oid, trusted = row
        if not trusted or (ino, mtime_ns, size) != stat_key(st):
            return None
        return Oid(oid)

    def put(self, relpath: str, st: os.stat_result, oid: Oid, now_ns: int | None = None) -> bool:
        """Record a file hashed just now; True if the entry can be trusted later (the file
        was not modified within the racy window before now)."""
        now = time.time_ns() if now_ns is None else now_ns
        trusted = 0 if _is_racy(st.st_mtime_ns, now) else 1
        row = (st.st_ino, st.st_mtime_ns, st.st_size, oid.hexdigest, trusted)
        entries = self._load()
        if entries.get(relpath) != row:
            entries[relpath] = row
            self._pending[relpath] = row
        return bool(trusted)

    def get_dir(self, relpath: str, fingerprint: str) -> tuple[Oid, int, int] | None:
        """(manifest id, size, nfiles) recorded for this exact directory fingerprint."""
        if relpath in self._pending_dirs:
            row: tuple[str, str, int, int] | None = self._pending_dirs[relpath]
        elif not self.path.exists():
            return None
        else:
            try:
                with contextlib.closing(self._connect()) as conn:
                    row = conn.execute(
                        "SELECT fingerprint, oid, size, nfiles FROM dir WHERE path = ?", (relpath,)
                    ).fetchone()
            except sqlite3.DatabaseError:
                return None
        if row is None or row[0] != fingerprint:
            return None
        return Oid(row[1]), row[2], row[3]

    def put_dir(
        self,
        relpath: str,
        fingerprint: str,
        oid: Oid,
        size: int,
        nfiles: int,
        newest_mtime_ns: int,
        now_ns: int | None = None,
    ) -> None:
        """Remember a directory's manifest, unless a file in it is racily new (its stat could
        stay the same through a later edit)."""
        now = time.time_ns() if now_ns is None else now_ns
        if not _is_racy(newest_mtime_ns, now):
            self._pending_dirs[relpath] = (fingerprint, oid.hexdigest, size, nfiles)

    def is_complete(self, oid: Oid, shards: str) -> bool:
        """Whether every object of manifest `oid` was in the cache when its shard
        directories last had digest `shards`."""
        if self._pending_complete.get(oid.hexdigest) == shards:
            return True
        if not self.path.exists():
            return False
        try:
            with contextlib.closing(self._connect()) as conn:
                row = conn.execute(
                    "SELECT shards FROM complete WHERE oid = ?", (oid.hexdigest,)
                ).fetchone()
        except sqlite3.DatabaseError:
            return False
        return row is not None and row[0] == shards

    def put_complete(
        self, oid: Oid, shards: str, newest_mtime_ns: int, now_ns: int | None = None
    ) -> None:
        """Remember that manifest `oid`'s objects are all cached, unless a shard directory
        changed within the racy window (a later change could keep its mtime)."""
        now = time.time_ns() if now_ns is None else now_ns
        if not _is_racy(newest_mtime_ns, now):
            self._pending_complete[oid.hexdigest] = shards

    def save(self) -> None:
        if not self._pending and not self._pending_dirs and not self._pending_complete:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as conn, conn:
            conn.executemany(
                "INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)",
                [(path, *row) for path, row in self._pending.items()],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO dir VALUES (?, ?, ?, ?, ?)",
                [(path, *row) for path, row in self._pending_dirs.items()],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO complete VALUES (?, ?)",
                list(self._pending_complete.items()),
            )
        self._pending.clear()
        self._pending_dirs.clear()
        self._pending_complete.clear()
