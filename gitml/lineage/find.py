"""`gitml lineage --find FILE`: the commits and paths where FILE's exact bytes were a
tracked output (a pointer file's output, a file inside a tracked directory, or a cached
stage out recorded in a gitml.lock).

It reads blobs, not commits: one `git log --all --raw` limited to pointer and lock files
lists every version of them each commit introduced; each distinct blob is read once
through one `git cat-file --batch`, and only blobs whose bytes name the content id (or a
directory manifest, looked up in the local cache) are parsed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml import git
from gitml.cache import Cache
from gitml.errors import GitmlError
from gitml.hashing import Oid
from gitml.pipeline import LOCK_FILE
from gitml.pointer import POINTER_SUFFIX, output_path_for, parse_pointer

if TYPE_CHECKING:
    from gitml.workspace import Workspace

_ZERO = b"0" * 40
# A directory pointer's manifest id (docs/spec/pointer.md: kind comes before oid).
_DIR_POINTER = re.compile(rb"\nkind: dir\noid: (blake3:[0-9a-f]{64})\n")
# A directory out in gitml.lock's fixed layout (path, oid, size, nfiles): its manifest id.
_LOCKED_DIR = re.compile(rb"oid: (blake3:[0-9a-f]{64})\s+size: \d+\s+nfiles:")


@dataclass(frozen=True)
class Introduced:
    """A commit that made `blob` the version of a pointer or lock file at `raw_path`.
    The commit's fields stay raw bytes until a match needs them (10,000s of versions)."""

    header: bytes  # b"<commit>\0<ISO date>\0<subject>"
    raw_path: bytes
    blob: str

    @property
    def path(self) -> str:
        return os.fsdecode(self.raw_path)

    def commit_fields(self) -> tuple[str, str, str]:
        commit, date, subject = self.header.decode("utf-8", "replace").split("\0", 2)
        return commit, date, subject


@dataclass(frozen=True)
class Match:
    commit: str
    date: str
    subject: str
    path: str  # the output (or the file inside a tracked directory)
    kind: str  # "added" or "stage_out"
    stage: str | None = None
    inside: str | None = None  # the tracked directory holding the file

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "commit": self.commit,
            "date": self.date,
            "subject": self.subject,
            "path": self.path,
            "kind": self.kind,
        }
        if self.stage is not None:
            data["stage"] = self.stage
        if self.inside is not None:
            data["inside"] = self.inside
        return data


@dataclass
class Found:
    oid: Oid
    matches: list[Match] = field(default_factory=list)
    refs: dict[str, list[str]] = field(default_factory=dict)  # ref -> paths at its tip
    workspace: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "oid": str(self.oid),
            "found": bool(self.matches or self.workspace),
            "matches": [m.to_json() for m in self.matches],
            "refs": self.refs,
            "workspace": self.workspace,
        }


def _is_lock(path: str) -> bool:
    return path.rpartition("/")[2] == LOCK_FILE


# One `--raw -z` record: ":<mode> <mode> <old blob> <new blob> <status>\0<path>\0".
_RAW_RECORD = re.compile(rb"\n?:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) [A-Z]\d*\0([^\0]*)\0")
_LOCK_NAME = LOCK_FILE.encode()


def history_versions(root: Path) -> list[Introduced]:
    """Every version of a pointer or lock file that a commit of any ref introduced."""
    out = git.run_bytes(
        root,
        [
            "log", "--all", "--format=%x01%H%x00%aI%x00%s", "--raw", "--no-renames",
            "--no-abbrev", "-z", "--", f"*{POINTER_SUFFIX}", f"*{LOCK_FILE}",
        ],
    )  # fmt: skip
    suffix = POINTER_SUFFIX.encode()
    versions: list[Introduced] = []
    for chunk in out.split(b"\x01"):
        fields = chunk.split(b"\0", 3)
        if len(fields) < 4:
            continue
        header = b"\0".join(fields[:3])
        for blob, raw_path in _RAW_RECORD.findall(fields[3]):
            if blob == _ZERO or not (
                raw_path.endswith(suffix) or raw_path.rpartition(b"/")[2] == _LOCK_NAME
            ):
                continue
            versions.append(Introduced(header, raw_path, blob.decode()))
    return versions


class _Matcher:
    """Which outputs of a pointer or lock blob hold `oid`."""

    def __init__(self, oid: Oid, cache: Cache | None) -> None:
        self.oid = oid
        self.needle = oid.hexdigest.encode()
        self.cache = cache
        self._manifests: dict[Oid, list[str]] = {}

    def in_manifest(self, manifest_oid: Oid) -> list[str]:
        """Files of a cached directory manifest that have the content id."""
        if manifest_oid not in self._manifests:
            files: list[str] = []
            if self.cache is not None and self.cache.exists(manifest_oid):
                data = self.cache.read_bytes(manifest_oid)
                if self.needle in data:
                    from gitml.manifest import parse_manifest

                    manifest = parse_manifest(data, f"manifest {manifest_oid}")
                    files = [e.relpath for e in manifest if e.oid == self.oid]
            self._manifests[manifest_oid] = files
        return self._manifests[manifest_oid]

    def output(self, path: str, oid: Oid, is_dir: bool) -> list[tuple[str, str | None]]:
        """(file path, containing directory or None) where `path` with `oid` holds it."""
        if oid == self.oid:
            return [(path, None)]
        if is_dir:
            return [(f"{path}/{f}", path) for f in self.in_manifest(oid)]
        return []

    def pointer(self, path: str, data: bytes) -> list[tuple[str, str | None, str | None]]:
        if self.needle not in data:
            manifest = _DIR_POINTER.search(data)
            if manifest is None or not self.in_manifest(Oid.parse(manifest[1].decode())):
                return []
        try:
            pointer = parse_pointer(data, path)
        except GitmlError:
            return []  # a malformed historical pointer holds nothing we can name
        found = self.output(output_path_for(path), pointer.oid, pointer.kind == "dir")
        return [(p, inside, None) for p, inside in found]

    def lock(self, path: str, data: bytes) -> list[tuple[str, str | None, str | None]]:
        if self.needle not in data and not any(
            self.in_manifest(Oid.parse(m.decode())) for m in _LOCKED_DIR.findall(data)
        ):
            return []
        from gitml.pipeline.lockfile import parse_lock

        try:
            entries = parse_lock(data, path)
        except GitmlError:
            return []
        found: list[tuple[str, str | None, str | None]] = []
        for stage, entry in entries.items():
            for out in entry.outs:  # paths in every gitml.lock are workspace-relative
                for p, inside in self.output(out.path, out.oid, out.is_dir):
                    found.append((p, inside, stage))
        return found


def find(root: Path, oid: Oid, workspace: Workspace | None) -> Found:
    """Where bytes with content id `oid` were a tracked output, in every commit of every
    ref, and in the workspace's current pointers and gitml.lock."""
    cache = workspace.cache if workspace is not None else None
    versions = history_versions(root)
    matcher = _Matcher(oid, cache)
    blobs = list(dict.fromkeys(v.blob for v in versions))
    contents = git.cat_blobs(root, blobs)
    hits: dict[tuple[str, bytes], list[tuple[str, str | None, str | None]]] = {}
    for v in versions:
        key = (v.blob, v.raw_path)
        if key in hits:
            continue
        data = contents.get(v.blob)
        if data is None:
            hits[key] = []
            continue
        path = v.path
        hits[key] = matcher.lock(path, data) if _is_lock(path) else matcher.pointer(path, data)
    result = Found(oid)
    holding: dict[tuple[str, str], list[str]] = {}
    for v in versions:
        for path, inside, stage in hits[(v.blob, v.raw_path)]:
            kind = "added" if stage is None else "stage_out"
            commit, date, subject = v.commit_fields()
            result.matches.append(Match(commit, date, subject, path, kind, stage, inside))
            holding.setdefault((v.path, v.blob), []).append(path)
    result.refs = _refs_holding(root, holding)
    if workspace is not None:
        result.workspace = _in_workspace(workspace, matcher)
    return result


def _in_workspace(ws: Workspace, matcher: _Matcher) -> list[str]:
    """Outputs of the work tree's pointer files and gitml.lock that hold the bytes (each
    pointer is read raw and parsed only when it can match, as in history)."""
    found: list[str] = []
    from gitml.pipeline.project import lock_path, pipeline_files

    files = [*git.list_pointer_files(ws.root)]
    files += [lock_path(f) for f in pipeline_files(ws.root) if (ws.root / lock_path(f)).is_file()]
    for file in files:
        if file.startswith(".gitml/"):
            continue
        try:
            data = (ws.root / file).read_bytes()
        except OSError:
            continue
        hits = matcher.lock(file, data) if _is_lock(file) else matcher.pointer(file, data)
        found += [path for path, _, _ in hits]
    return found


def _refs_holding(root: Path, holding: dict[tuple[str, str], list[str]]) -> dict[str, list[str]]:
    """{ref: [output paths]} for branch and tag tips whose tree has a matching version of a
    pointer or lock file (`holding`: (file, blob) -> the outputs it names)."""
    if not holding:
        return {}
    out = git.run_bytes(
        root, ["for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags"]
    )
    refs = [r for r in out.decode("utf-8", "replace").splitlines() if r]
    files = sorted({file for file, _ in holding})
    queries = [(ref, file) for ref in refs for file in files]
    request = "".join(f"{ref}:{file}\n" for ref, file in queries).encode()
    answer = git.run_bytes(root, ["cat-file", "--batch-check=%(objectname)"], input=request)
    result: dict[str, list[str]] = {}
    for (ref, file), line in zip(queries, answer.decode().splitlines(), strict=False):
        for path in holding.get((file, line.strip()), []):
            result.setdefault(ref, []).append(path)
    return result
