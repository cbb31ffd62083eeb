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
    if relpath.startswith("/") or _is_drive_prefixed(relpath):
        raise PathError(f"{what}: absolute path {relpath!r} is not allowed")
    bad = _BAD_CHARS.search(relpath)
    if bad:
        kind = "backslash" if bad.group() == "\\" else "control character"
        raise PathError(f"{what}: {kind} in path {relpath!r} is not allowed")
    if not relpath.isascii():
        try:
            relpath.encode("utf-8")
        except UnicodeEncodeError:
            raise PathError(f"{what}: path {relpath!r} is not valid UTF-8") from None
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
    # Refuse here what pointer and manifest readers reject (control characters, backslashes,
    # non-UTF-8 names): such a path cannot be recorded in a pointer path or .gitignore line.
    shown = str(path) if str(path).isprintable() else repr(str(path))
    return validate_relpath(relpath, what=shown)


def ensure_inside(root: Path, relpath: str) -> Path:
    """Return root/relpath after checking no existing parent is a symlink leading outside."""
    target = root.joinpath(*relpath.split("/"))
    parent = target.parent
    real_parent = parent.resolve()
    real_root = root.resolve()
    if real_parent != real_root and real_root not in real_parent.parents:
        raise PathError(f"{relpath}: a parent directory leads outside the workspace")
    return target


def _is_drive_prefixed(path: str) -> bool:
    """`C:x` is a drive-relative path on Windows; `1:30.csv` or `ab:c` are ordinary names."""
    return len(path) > 1 and path[1] == ":" and path[0].isascii() and path[0].isalpha()


def validate_name(name: str, relpath: str, *, first: bool = False) -> None:
    """Check one entry found on disk inside a tracked directory before it is recorded.

    A manifest must never hold a path its reader rejects (docs/spec/manifest.md); this is
    the per-component form of `validate_relpath`, cheap enough for every file of a scan.
    `first`: the name starts a manifest relpath, where `C:x` reads as a drive path.
    """
    reason = None
    if first and _is_drive_prefixed(name):
        reason = "a name like 'C:x' reads as a Windows drive path and cannot be tracked"
    elif name in RESERVED_NAMES:
        reason = f"a {name} inside a tracked directory cannot be tracked"
    elif _BAD_CHARS.search(name):
        reason = "a control character or backslash in a file name cannot be tracked"
    elif not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            reason = "a file name that is not UTF-8 cannot be tracked"
    if reason is not None:
        shown = relpath if relpath.isprintable() else repr(relpath)
        raise PathError(f"{shown}: {reason}; rename or remove it")
