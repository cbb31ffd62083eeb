"""`.gitignore` entries beside each tracked output: `/name` so git ignores the bytes."""

from __future__ import annotations

from pathlib import Path

from gitml.fsutil import atomic_write_bytes


def _entry(name: str) -> str:
    escaped = "".join("\\" + c if c in "*?[]!#\\ " else c for c in name)
    return "/" + escaped


def _read_lines(path: Path) -> list[str]:
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
