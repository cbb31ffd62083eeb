"""`.gitignore` entries beside each tracked output: `/name` so git ignores the bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gitml.errors import PathError
from gitml.fsutil import atomic_write_bytes


def _entry(name: str) -> str:
    escaped = "".join("\\" + c if c in "*?[]!#\\ " else c for c in name)
    return "/" + escaped


def refuse_symlink(directory: Path, shown: str | None = None) -> None:
    """A symlinked `.gitignore` is refused, as git (2.32+) refuses to read one: writing
    through it would copy the bytes of a file anywhere on disk into the workspace."""
    path = directory / ".gitignore"
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISLNK(mode):
        raise PathError(
            f"{shown or path}: is a symbolic link; gitml (like git) does not use a "
            "symlinked .gitignore",
            hint="replace it with a regular file",
        )


def _read_lines(path: Path) -> list[str]:
    refuse_symlink(path.parent)
    try:
        # A user's .gitignore need not be UTF-8: keep its bytes as they are.
        return path.read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except FileNotFoundError:
        return []


def _encode(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def add_entry(directory: Path, name: str) -> bool:
    """Ensure `/name` is in directory/.gitignore. Returns True if the file changed."""
    path = directory / ".gitignore"
    lines = _read_lines(path)
    entry = _entry(name)
    if entry in lines:
        return False
    atomic_write_bytes(path, _encode([*lines, entry]))
    return True


def remove_entry(directory: Path, name: str) -> bool:
    path = directory / ".gitignore"
    lines = _read_lines(path)
    entry = _entry(name)
    if entry not in lines:
        return False
    kept = [line for line in lines if line != entry]
    if kept:
        atomic_write_bytes(path, _encode(kept))
    else:
        path.unlink()
    return True
