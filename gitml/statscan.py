"""Stat-only views of a tracked output: every file's (path, lstat) and a digest of them.

Shared by `status`/`checkout` (a directory's fingerprint in the state db) and the
pre-commit hook (its clean-outputs snapshot). Imports nothing heavy: the hook runs on
every `git commit`.
"""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Iterable

from gitml.hashing import hex_digest

# Names gitml gives its own temp files beside workspace files; scans skip them.
TEMP_PREFIX = ".gitml-tmp-"


def scan_stats(root_relpath: str, root_path: str) -> list[tuple[str, os.stat_result]]:
    """(relpath, lstat) of every non-directory under a directory, nothing else: what a
    fingerprint needs, without the per-entry checks of a full scan."""
    found: list[tuple[str, os.stat_result]] = []
    stack = [(root_relpath, root_path)]
    is_dir = stat_mod.S_ISDIR
    while stack:
        rel, directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(TEMP_PREFIX):
                    continue
                st = entry.stat(follow_symlinks=False)
                if is_dir(st.st_mode):
                    stack.append((f"{rel}/{name}", entry.path))
                else:
                    found.append((f"{rel}/{name}", st))
    return found


def _lines_under(tops: list[tuple[str, str]], lines: list[str]) -> None:
    """Append a fingerprint line for every file under the directories `tops`."""
    add = lines.append
    stack = list(tops)
    is_dir = stat_mod.S_ISDIR
    while stack:
        rel, directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(TEMP_PREFIX):
                    continue
                st = entry.stat(follow_symlinks=False)
                if is_dir(st.st_mode):
                    stack.append((f"{rel}/{name}", entry.path))
                else:
                    add(
                        f"{rel}/{name}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}\0{st.st_mode}\n"
                    )


def dir_fingerprint(root_relpath: str, root_path: str) -> str:
    """`fingerprint(scan_stats(...))` in one pass, without a tuple per file: status of an
    unchanged directory is this walk and little else. The top folder's subfolders are
    split between this thread and one more, as git's preloaded index stats with threads:
    `lstat` releases the GIL."""
    lines: list[str] = []
    subdirs: list[tuple[str, str]] = []
    with os.scandir(root_path) as entries:
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue
            rel = f"{root_relpath}/{entry.name}"
            st = entry.stat(follow_symlinks=False)
            if stat_mod.S_ISDIR(st.st_mode):
                subdirs.append((rel, entry.path))
            else:
                lines.append(f"{rel}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}\0{st.st_mode}\n")
    if len(subdirs) < 2:
        _lines_under(subdirs, lines)
    else:
        import threading

        theirs: list[str] = []
        failed: list[BaseException] = []

        def other_half() -> None:
            try:
                _lines_under(subdirs[1::2], theirs)
            except BaseException as exc:  # raised again in the calling thread
                failed.append(exc)

        helper = threading.Thread(target=other_half, name="gitml-stat", daemon=True)
        helper.start()
        try:
            _lines_under(subdirs[::2], lines)
        finally:
            helper.join()
        if failed:
            raise failed[0]
        lines += theirs
    lines.sort()
    return hex_digest("".join(lines).encode("utf-8", "surrogateescape"))


def fingerprint(entries: Iterable[tuple[str, os.stat_result]]) -> str:
    """A digest of the paths and stat data of files (in any order)."""
    lines = sorted(
        f"{rel}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}\0{st.st_mode}\n" for rel, st in entries
    )
    return hex_digest("".join(lines).encode("utf-8", "surrogateescape"))
