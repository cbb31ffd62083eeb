"""Tracked outputs: what gitml tracks in the work tree or at any git revision (pointer
files, then the cached stage outs of gitml.lock), the selection a user's paths make of
them, and the files of a directory output. Every use case asks here.

At a revision, nothing is checked out: pointer files come from `git ls-tree -r` and one
long-lived `git cat-file --batch`; they are untrusted input, parsed strictly, and every
error names `REV:path`. Directory manifests come from an ObjectSource (cache, then remote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import git, pipeline_refs, revisions
from gitml.errors import FormatError, PathError
from gitml.hashing import Oid
from gitml.manifest import Entry, Manifest
from gitml.paths import validate_relpath
from gitml.pipeline.project import lock_outputs, lock_outputs_at
from gitml.pointer import MAX_POINTER_BYTES, POINTER_SUFFIX, Pointer, output_path_for, parse_pointer

if TYPE_CHECKING:
    from gitml.objects import ObjectSource
    from gitml.workspace import Workspace

WORKSPACE = "workspace"


@dataclass(frozen=True)
class TrackedOutput:
    path: str  # workspace-relative output path
    pointer: Pointer
    where: str  # names the pointer in messages: "v1:data.gitml", or "data.gitml"
    subpaths: tuple[str, ...] | None = None  # a selection of paths inside a directory


@dataclass(frozen=True)
class FileRef:
    """One file: a file output, or a file inside a directory output."""

    path: str
    oid: Oid
    size: int
    executable: bool
    output: TrackedOutput


def parse_revision_pointer(path: str, data: bytes, where: str) -> TrackedOutput:
    """Parse a pointer blob read from git, validating the output path it implies."""
    output = output_path_for(path)
    try:
        validate_relpath(output, what=where)
    except PathError as exc:
        raise FormatError(str(exc)) from None
    return TrackedOutput(output, parse_pointer(data, where), where)


def revision_outputs(
    root: Path, rev: str, cat: git.CatFile, *, pushable_only: bool = False
) -> dict[str, TrackedOutput]:
    """{output path: TrackedOutput} of every pointer committed at `rev` (anything
    gitml.revisions.resolve accepts), then of the cached stage outs in its gitml.lock
    (`pushable_only`: not those marked `push: false`)."""
    commit = revisions.resolve(root, rev)
    blobs = git.pointer_blobs(root, commit)
    ids = [blob for _, blob in blobs]
    git.prefetch_blobs(root, ids)
    contents = cat.read_many(ids, limit=MAX_POINTER_BYTES + 1)  # a bigger one is refused
    outputs: dict[str, TrackedOutput] = {}
    for path, blob in blobs:
        where = f"{rev}:{path}"
        found = contents.get(blob)
        if found is None:
            raise FormatError(f"{where}: git cannot read this pointer file (object missing)")
        tracked = parse_revision_pointer(path, found[1], where)
        outputs[tracked.path] = tracked
    for path, pointer, lock in lock_outputs_at(root, commit, pushable_only=pushable_only):
        outputs.setdefault(path, TrackedOutput(path, pointer, f"{rev}:{lock} ({path})"))
    return dict(sorted(outputs.items()))


def workspace_outputs(ws: Workspace, *, pushable_only: bool = False) -> dict[str, TrackedOutput]:
    """{output path: TrackedOutput} of the pointer files in the work tree, then the stage
    outs recorded in its gitml.lock (`pushable_only`: not those marked `push: false`,
    which never leave this machine)."""
    outputs = {
        relpath: TrackedOutput(relpath, ws.read_pointer(relpath), relpath + POINTER_SUFFIX)
        for relpath in ws.tracked_outputs()
    }
    for path, pointer, lock in lock_outputs(ws.root, pushable_only=pushable_only):
        outputs.setdefault(path, TrackedOutput(path, pointer, f"{lock} ({path})"))
    return dict(sorted(outputs.items()))


def recorded_lock_outs(root: Path) -> list[TrackedOutput]:
    """Every out that a gitml.lock of the work tree records, also of stages its gitml.yaml
    no longer declares: what `gc` must keep, a superset of the tracked stage outs."""
    found = []
    for name in pipeline_refs.lock_files(root):
        lock = root / name
        if lock.is_file():
            for path, pointer in pipeline_refs.lock_outs(lock.read_bytes(), name):
                found.append(TrackedOutput(path, pointer, f"{name}: {path}"))
    return found


def select(
    outputs: Mapping[str, TrackedOutput],
    rels: list[str] | None,
    *,
    context: str = "",
    shown: Callable[[str], str] = str,
) -> list[TrackedOutput]:
    """The outputs that workspace-relative paths `rels` name (all when None): an output,
    a folder holding outputs, or paths inside a directory output (`subpaths`)."""
    if not rels:
        return list(outputs.values())
    whole: dict[str, None] = {}
    inside: dict[str, list[str]] = {}
    for rel in rels:
        matches = [o for o in outputs if o == rel or o.startswith(rel + "/")]
        if matches:
            whole.update(dict.fromkeys(matches))
            continue
        owner = next((o for o in outputs if rel.startswith(o + "/")), None)
        if owner is None:
            raise PathError(f"{shown(rel)} is not tracked by gitml{context}")
        inside.setdefault(owner, []).append(rel[len(owner) + 1 :])
    chosen = [outputs[o] for o in whole]
    for owner, parts in inside.items():
        if owner in whole:
            continue
        output = outputs[owner]
        if output.pointer.kind != "dir":  # a file output has no paths inside it
            raise PathError(f"{shown(owner + '/' + parts[0])} is not tracked by gitml{context}")
        chosen.append(replace(output, subpaths=tuple(dict.fromkeys(parts))))
    return chosen


def selected_entries(output: TrackedOutput, manifest: Manifest) -> list[tuple[str, Entry]]:
    """(workspace-relative path, entry) of the files of a directory output that its
    selection names: all of them, or those at or under its `subpaths`."""
    prefix = output.path + "/"
    if output.subpaths is None:
        return [(prefix + e.relpath, e) for e in manifest]
    chosen = []
    for sub in output.subpaths:
        hits = [e for e in manifest if e.relpath == sub or e.relpath.startswith(sub + "/")]
        if not hits:
            raise PathError(f"{output.path}/{sub} is not in tracked directory {output.path}")
        chosen += [(prefix + e.relpath, e) for e in hits]
    return chosen


class Snapshot:
    """The tracked outputs of one revision (or the work tree's pointers) and their files."""

    def __init__(self, label: str, outputs: dict[str, TrackedOutput], source: ObjectSource):
        self.label = label
        self.outputs = outputs
        self.source = source

    def manifest(self, output: TrackedOutput) -> Manifest:
        return self.source.manifest(output.pointer.oid, output.where)

    def owner(self, path: str) -> TrackedOutput | None:
        """The output that is `path` or contains it."""
        found = self.outputs.get(path)
        if found is not None:
            return found
        parts = path.split("/")
        for i in range(len(parts) - 1, 0, -1):
            candidate = self.outputs.get("/".join(parts[:i]))
            if candidate is not None:
                return candidate
        return None

    def files(self, output: TrackedOutput) -> Iterator[FileRef]:
        pointer = output.pointer
        if pointer.kind == "file":
            yield FileRef(output.path, pointer.oid, pointer.size, pointer.executable, output)
            return
        for e in self.manifest(output):
            yield _file_in(output, e)

    def resolve_file(self, path: str) -> FileRef:
        """The file at `path` (a file output, or a file inside a directory output)."""
        output = self.owner(path)
        if output is None:
            raise PathError(f"{path} is not tracked by gitml{self._at()}")
        if output.path == path:
            if output.pointer.kind == "dir":
                raise PathError(f"{path} is a directory tracked by gitml; name a file in it")
            return next(self.files(output))
        inner = path[len(output.path) + 1 :]
        if output.pointer.kind == "file":
            raise PathError(f"{path} is not tracked by gitml{self._at()}")
        for e in self.manifest(output):
            if e.relpath == inner:
                return _file_in(output, e)
        if any(e.relpath.startswith(inner + "/") for e in self.manifest(output)):
            raise PathError(f"{path} is a directory inside {output.path}; name a file in it")
        raise PathError(f"{path} is not in tracked directory {output.path}{self._at()}")

    def _at(self) -> str:
        return "" if self.label == WORKSPACE else f" at {self.label}"


def _file_in(output: TrackedOutput, entry: Entry) -> FileRef:
    return FileRef(
        f"{output.path}/{entry.relpath}", entry.oid, entry.size, entry.executable, output
    )
