"""Temp files in the cache's `tmp/` left by gitml processes that were killed.

Every cache temp name carries its writer's PID (`fsutil.temp_name`: `.tmp-PID-RUN-N`).
A file whose PID no longer runs will never be renamed into the cache: it is removed by
the next command that takes the workspace lock, and `gitml doctor` reports them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_OWNED = re.compile(r"\.tmp-(\d+)-[0-9a-f]{12}-")


@dataclass(frozen=True)
class StaleTemps:
    paths: tuple[Path, ...]
    size: int


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def find_stale(tmp_dir: Path) -> StaleTemps:
    paths = []
    size = 0
    try:
        entries = list(os.scandir(tmp_dir))
    except (FileNotFoundError, NotADirectoryError):
        return StaleTemps((), 0)
    alive: dict[int, bool] = {}
    for entry in entries:
        owner = _OWNED.match(entry.name)
        if owner is None:
            continue
        pid = int(owner[1])
        if pid not in alive:
            alive[pid] = _running(pid)
        if alive[pid]:
            continue
        try:
            size += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            continue
        paths.append(Path(entry.path))
    return StaleTemps(tuple(paths), size)


def remove_stale(tmp_dir: Path) -> StaleTemps:
    """Delete temp files of dead processes; what was removed."""
    stale = find_stale(tmp_dir)
    removed = []
    for path in stale.paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:  # e.g. a read-only cache shared with others: leave it
            continue
        removed.append(path)
    return StaleTemps(tuple(removed), stale.size if len(removed) == len(stale.paths) else 0)
