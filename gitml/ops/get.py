"""`gitml get URL PATH`: download one tracked output, or a file or folder inside a tracked
directory, from another gitml repository (a local path or a git URL), using that
repository's cache when it is local and its default remote otherwise. Works outside any
workspace; nothing is cloned beyond the revision's pointer files (see gitml.repo).

Every file is hash-verified while it is written to a staging name beside the target;
the target appears (by rename) only when all of it arrived intact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitml.errors import GitmlError, PathError
from gitml.objects import ObjectSource
from gitml.outputs import FileRef, Snapshot
from gitml.paths import validate_relpath
from gitml.progress import NullProgress, Progress
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.repo import DataRepo

_CHUNK = 1024 * 1024


@dataclass
class GetResult:
    path: str  # as named in the other repository
    out: Path
    files: int
    bytes: int
    rev: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "out": str(self.out),
            "rev": self.rev,
            "files": self.files,
            "bytes": self.bytes,
        }


def normalize_repo_path(path: str) -> str:
    """A repository-relative path as users type it (`./data/`, `data\\x` is refused)."""
    cleaned = path.strip()
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    cleaned = cleaned.rstrip("/")
    try:
        return validate_relpath(cleaned, what=f"path {path!r}")
    except PathError as exc:
        raise PathError(f"{exc.message} (paths are relative to the repository root)") from None


def select(snapshot: Snapshot, path: str) -> tuple[list[FileRef], str]:
    """The files under `path` and the prefix to strip from their paths; a single file
    gives one FileRef and prefix equal to its own path."""
    output = snapshot.owner(path)
    if output is None:
        raise PathError(f"{path} is not tracked by gitml at {snapshot.label}")
    if output.pointer.kind == "file" or output.path == path:
        return list(snapshot.files(output)), path
    files = [f for f in snapshot.files(output) if f.path == path or f.path.startswith(path + "/")]
    if not files:
        raise PathError(f"{path} is not in tracked directory {output.path} at {snapshot.label}")
    return files, path


def get(
    repo: str,
    path: str,
    *,
    rev: str | None = None,
    out: str | None = None,
    remote: str | None = None,
    force: bool = False,
    jobs: int = 4,
    progress: Progress | None = None,
) -> GetResult:
    wanted = normalize_repo_path(path)
    label = rev or "HEAD"
    with DataRepo.open(repo, label) as data_repo:
        source = data_repo.source(remote)
        snapshot = data_repo.snapshot(label, source)
        files, prefix = select(snapshot, wanted)
        single = len(files) == 1 and files[0].path == prefix
        target = _target(out, wanted, single, force)
        total = _download(source, files, prefix, target, single, jobs, progress or NullProgress())
    return GetResult(wanted, target, len(files), total, label)


def _target(out: str | None, wanted: str, single: bool, force: bool) -> Path:
    name = wanted.rsplit("/", 1)[-1]
    target = Path(out).expanduser() if out else Path(name)
    if single and target.is_dir() and not target.is_symlink():
        target = target / name
    target = Path(os.path.abspath(target))
    if (target.exists() or target.is_symlink()) and not force:
        raise PathError(f"{target} already exists; use --force to replace it")
    if not target.parent.is_dir():
        raise PathError(f"{target.parent} is not a directory")
    return target


def _download(
    source: ObjectSource,
    files: list[FileRef],
    prefix: str,
    target: Path,
    single: bool,
    jobs: int,
    progress: Progress,
) -> int:
    staging = target.parent / f".gitml-get-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        by_path = {f.path: f for f in files}

        def fetch(item: Item, on_bytes: Callable[[int], None]) -> None:
            ref = by_path[item.label]
            rel = "" if single else ref.path[len(prefix) + 1 :]
            dest = staging / "out" if single else staging / "out" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            _write_verified(source, ref, dest, on_bytes)

        items = [Item(f.oid, f.size, f.path) for f in files]
        outcome = transfer.run(items, fetch, jobs=jobs, progress=progress, description="Get")
        if outcome.failed:
            _item, reason = outcome.failed[0]
            more = f" (and {len(outcome.failed) - 1} more)" if len(outcome.failed) > 1 else ""
            raise GitmlError(f"{reason}{more}; nothing written")
        if not single:
            (staging / "out").mkdir(exist_ok=True)  # an empty directory output
        if target.exists() or target.is_symlink():
            _remove(target)
        os.replace(staging / "out", target)
        return outcome.bytes
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_verified(
    source: ObjectSource, ref: FileRef, dest: Path, on_bytes: Callable[[int], None]
) -> None:
    mode = 0o755 if ref.executable else 0o644
    with source.open(ref.oid, ref.size, ref.path) as stream, open(dest, "xb") as handle:
        os.chmod(dest, mode)
        while chunk := stream.read(_CHUNK):
            handle.write(chunk)
            on_bytes(len(chunk))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
