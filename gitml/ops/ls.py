"""`gitml ls`: tracked outputs and their sizes at a revision (or in the work tree)."""

from __future__ import annotations

from dataclasses import dataclass

from gitml.errors import PathError
from gitml.outputs import Snapshot, TrackedOutput


@dataclass(frozen=True)
class LsEntry:
    path: str
    kind: str  # "file" | "dir"
    size: int
    oid: str
    nfiles: int | None = None
    executable: bool = False
    output: str = ""  # the tracked output this is (or is inside)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": self.path,
            "kind": self.kind,
            "size": self.size,
            "oid": self.oid,
        }
        if self.nfiles is not None:
            data["nfiles"] = self.nfiles
        if self.executable:
            data["executable"] = True
        if self.output != self.path:
            data["output"] = self.output
        return data


def _output_entry(output: TrackedOutput) -> LsEntry:
    p = output.pointer
    return LsEntry(output.path, p.kind, p.size, str(p.oid), p.nfiles, p.executable, output.path)


def _files_of(snapshot: Snapshot, output: TrackedOutput, inner: str = "") -> list[LsEntry]:
    entries = []
    for f in snapshot.files(output):
        rel = f.path[len(output.path) + 1 :]
        if inner and rel != inner and not rel.startswith(inner + "/"):
            continue
        entries.append(LsEntry(f.path, "file", f.size, str(f.oid), None, f.executable, output.path))
    return entries


def ls(snapshot: Snapshot, path: str | None = None, *, recursive: bool = False) -> list[LsEntry]:
    """Outputs (under `path`, a workspace-relative path) with, when `recursive`, the files
    inside directory outputs; a `path` inside a directory output lists its files there."""
    outputs = list(snapshot.outputs.values())
    if path:
        chosen = [o for o in outputs if o.path == path or o.path.startswith(path + "/")]
        if not chosen:
            owner = snapshot.owner(path)
            if owner is None or owner.pointer.kind != "dir":
                raise PathError(f"{path} is not tracked by gitml{_at(snapshot)}")
            inner = _files_of(snapshot, owner, path[len(owner.path) + 1 :])
            if not inner:
                raise PathError(f"{path} is not in tracked directory {owner.path}{_at(snapshot)}")
            return inner
        outputs = chosen
    result: list[LsEntry] = []
    for output in outputs:
        result.append(_output_entry(output))
        if recursive and output.pointer.kind == "dir":
            result += _files_of(snapshot, output)
    return result


def _at(snapshot: Snapshot) -> str:
    return "" if snapshot.label == "workspace" else f" at {snapshot.label}"
