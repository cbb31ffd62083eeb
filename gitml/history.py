"""Tracked outputs at any git revision, read without a checkout: pointer files, and the
cached stage outs of the gitml.lock committed there.

Pointer files come from `git ls-tree -r` of the revision and one long-lived
`git cat-file --batch`; they are untrusted input, parsed strictly, and every error names
`REV:path`. Directory manifests come from an ObjectSource (cache, then remote).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import git
from gitml.errors import FormatError, PathError
from gitml.hashing import Oid
from gitml.manifest import Entry, Manifest
from gitml.paths import validate_relpath
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
    """{output path: TrackedOutput} of every pointer committed at `rev`, then of the
    cached stage outs in its gitml.lock (`pushable_only`: not those marked `push: false`)."""
    commit = git.resolve_commit(root, rev)
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
    from gitml.pipeline.project import lock_outputs_at

    for path, pointer, lock in lock_outputs_at(root, rev, pushable_only=pushable_only):
        outputs.setdefault(path, TrackedOutput(path, pointer, f"{rev}:{lock} ({path})"))
    return dict(sorted(outputs.items()))


def workspace_outputs(ws: Workspace) -> dict[str, TrackedOutput]:
    """{output path: TrackedOutput} of the pointer files in the work tree, then the stage
    outs recorded in its gitml.lock."""
    outputs = {
        relpath: TrackedOutput(relpath, ws.read_pointer(relpath), relpath + POINTER_SUFFIX)
        for relpath in ws.tracked_outputs()
    }
    from gitml.pipeline.project import lock_outputs

    for path, pointer, lock in lock_outputs(ws.root):
        outputs.setdefault(path, TrackedOutput(path, pointer, f"{lock} ({path})"))
    return dict(sorted(outputs.items()))


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
