"""`gitml status`: tracked outputs whose workspace content differs from their pointer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitml.errors import GitmlError
from gitml.outputs import Observed, known_dir_pointer, observe, shares_inode_with_cache
from gitml.pointer import Pointer
from gitml.workspace import Workspace


@dataclass
class OutputStatus:
    path: str
    state: str  # "modified" | "deleted" | "not in cache" | "corrupt in cache" | "error"
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"path": self.path, "state": self.state}
        for key in ("added", "modified", "deleted"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.message:
            data["message"] = self.message
        return data


def _dir_changes(ws: Workspace, relpath: str, pointer: Pointer, observed: Observed) -> OutputStatus:
    result = OutputStatus(relpath, "modified")
    if not ws.cache.exists(pointer.oid):
        return result
    old = ws.cache.load_manifest(pointer.oid).by_path()
    prefix = len(relpath) + 1
    now = {f.relpath[prefix:]: f for f in observed.files}
    for name, f in now.items():
        entry = old.get(name)
        if entry is None:
            result.added.append(name)
        elif entry.oid != f.oid or entry.executable != f.executable:
            result.modified.append(name)
            if shares_inode_with_cache(f, ws.cache, entry.oid):
                ws.cache.quarantine(entry.oid)
    result.deleted = sorted(name for name in old if name not in now)
    result.added.sort()
    result.modified.sort()
    return result


def _missing_objects(ws: Workspace, pointer: Pointer) -> bool:
    if not ws.cache.exists(pointer.oid):
        return True
    if pointer.kind == "dir":
        return not ws.cache.has_manifest_objects(pointer.oid)
    return False


def output_status(ws: Workspace, relpath: str) -> OutputStatus | None:
    try:
        pointer = ws.read_pointer(relpath)
        if (
            pointer.kind == "dir"
            and known_dir_pointer(relpath, ws.abspath(relpath), ws.state) == pointer
        ):
            return OutputStatus(relpath, "not in cache") if _missing_objects(ws, pointer) else None
        observed = observe(relpath, ws.abspath(relpath), ws.cache, ws.state, ws.progress)
        if observed.kind == "missing":
            return OutputStatus(relpath, "deleted")
        if observed.kind != pointer.kind:
            return OutputStatus(relpath, "modified", message=f"was a {pointer.kind}")
        if observed.pointer() != pointer:
            if observed.kind == "dir":
                return _dir_changes(ws, relpath, pointer, observed)
            (f,) = observed.files
            if f.oid != pointer.oid and shares_inode_with_cache(f, ws.cache, pointer.oid):
                ws.cache.quarantine(pointer.oid)
                return OutputStatus(
                    relpath,
                    "modified",
                    message="edited in place through a hardlink: its cache copy was dropped",
                )
            return OutputStatus(relpath, "modified")
        if _missing_objects(ws, pointer):
            return OutputStatus(relpath, "not in cache")
        return None
    except GitmlError as exc:
        return OutputStatus(relpath, "error", message=str(exc))


def status(ws: Workspace, user_paths: list[str] | None = None) -> list[OutputStatus]:
    tracked = ws.tracked_outputs()
    if user_paths:
        wanted = {ws.relpath(p) for p in user_paths}
        tracked = [t for t in tracked if t in wanted or any(t.startswith(w + "/") for w in wanted)]
    results = []
    try:
        for relpath in tracked:
            item = output_status(ws, relpath)
            if item is not None:
                results.append(item)
    finally:
        ws.state.save()
    return results


def stage_status(ws: Workspace) -> list[Any]:
    """Stale pipeline stages with their reasons (gitml.pipeline.status.StageStatus)."""
    if not (ws.root / "gitml.yaml").exists():
        return []
    from gitml.pipeline.status import stage_status as pipeline_status

    return pipeline_status(ws)
