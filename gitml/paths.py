"""Workspace-relative paths: validation of untrusted relative paths and resolution."""

from __future__ import annotations

import os
import re
from pathlib import Path

from gitml.errors import PathError

RESERVED_NAMES = frozenset({".git", ".gitml"})
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_BAD_PARTS = frozenset({"", ".", "..", *RESERVED_NAMES})


def validate_relpath(relpath: str, *, what: str) -> str:
    """Check a '/'-separated relative path from an untrusted file; return it unchanged.

    Rejects absolute paths, empty, '.' or '..' components, backslashes, control
    characters and the reserved names `.git` and `.gitml`.
    """
    if not relpath:
        raise PathError(f"{what}: empty path")
    if relpath.startswith("/") or (len(relpath) > 1 and relpath[1] == ":"):
        raise PathError(f"{what}: absolute path {relpath!r} is not allowed")
    bad = _BAD_CHARS.search(relpath)
    if bad:
        kind = "backslash" if bad.group() == "\\" else "control character"
        raise PathError(f"{what}: {kind} in path {relpath!r} is not allowed")
    parts = relpath.split("/")
    if not _BAD_PARTS.isdisjoint(parts):
        for part in parts:
            if part in RESERVED_NAMES:
                raise PathError(f"{what}: path {relpath!r} enters reserved {part}/")
        raise PathError(f"{what}: path {relpath!r} escapes or is not normalised")
    return relpath


def to_workspace_relpath(root: Path, path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """Resolve a user-given path to a '/'-separated path relative to the workspace root.

    Symlinked parent directories are resolved, so a path reaching outside the workspace
    through a symlink is refused; the final component itself is not followed.
    """
    base = cwd or Path.cwd()
    absolute = Path(os.path.abspath(base / path))
    if absolute == root:
        raise PathError(f"{path}: is the workspace root; name a file or directory inside it")
    parent = absolute.parent.resolve()
    resolved = parent / absolute.name
    try:
        rel = resolved.relative_to(root)
    except ValueError:
        raise PathError(f"{path}: is outside the workspace {root}") from None
    relpath = rel.as_posix()
    parts = relpath.split("/")
    for part in parts:
        if part in RESERVED_NAMES:
            raise PathError(f"{path}: is inside {part}/, which gitml does not track")
    return relpath


def ensure_inside(root: Path, relpath: str) -> Path:
    """Return root/relpath after checking no existing parent is a symlink leading outside."""
    target = root.joinpath(*relpath.split("/"))
    parent = target.parent
    real_parent = parent.resolve()
    real_root = root.resolve()
    if real_parent != real_root and real_root not in real_parent.parents:
        raise PathError(f"{relpath}: a parent directory leads outside the workspace")
    return target
