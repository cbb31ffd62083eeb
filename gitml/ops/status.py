"""`gitml status`: tracked outputs whose workspace content differs from their pointer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitml.checkout_journal import refuse_if_interrupted
from gitml.errors import GitmlError, PathError, PipelineError
from gitml.pointer import Pointer
from gitml.scan import (
    Observed,
    known_dir_pointer,
    objects_present,
    observe,
    shares_inode_with_cache,
)
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
    return not objects_present(ws.cache, ws.state, pointer)


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


@dataclass
class Targets:
    """What `gitml status TARGET...` looks at: tracked outputs and pipeline stages."""

    outputs: list[str]
    stages: list[str] | None  # None: every stage


def select_targets(ws: Workspace, user_targets: list[str] | None) -> Targets:
    """Tracked outputs (or files inside one), stage names and stage outs; anything else
    is an error, never a silent "up to date"."""
    tracked = ws.tracked_outputs()
    if not user_targets:
        return Targets(tracked, None)
    outputs: list[str] = []
    stages: list[str] = []
    pipeline: Any = None
    for target in user_targets:
        rel = ws.relpath(target)
        matches = [t for t in tracked if t == rel or t.startswith(rel + "/")]
        matches += [t for t in tracked if rel.startswith(t + "/")]  # a file inside one
        if matches:
            outputs.extend(matches)
            continue
        if pipeline is None:
            pipeline = _pipeline(ws)
        owner = pipeline.out_owner(rel) if pipeline else None
        if owner is not None:
            stages.append(owner[0])
        elif pipeline and _names_a_stage(pipeline, target):
            stages.extend(pipeline.select([target]))
        else:
            raise PathError(f"{target}: not a tracked output or a stage")
    return Targets(list(dict.fromkeys(outputs)), list(dict.fromkeys(stages)))


def _names_a_stage(pipeline: Any, target: str) -> bool:
    """A stage or group name, bare or as `path/to/gitml.yaml:stage` (ambiguity raises)."""
    try:
        pipeline.address_of(target)
    except PipelineError as exc:
        if "ambiguous" in exc.message:
            raise
        return False
    return True


def _pipeline(ws: Workspace) -> Any:
    from gitml.pipeline.project import load_pipelines  # lazy: status without pipelines is fast

    return load_pipelines(ws.root) or False


def status(ws: Workspace, outputs: list[str]) -> list[OutputStatus]:
    """Outputs whose workspace content differs from their pointer; unreadable pointers
    come back with state "error" (the CLI reports them on stderr and exits 1)."""
    refuse_if_interrupted(ws.tmp_dir, outputs)
    tracked = outputs
    results = []
    try:
        for relpath in tracked:
            item = output_status(ws, relpath)
            if item is not None:
                results.append(item)
    finally:
        ws.state.save()
    return results


def stage_status(ws: Workspace, names: list[str] | None = None) -> list[Any]:
    """Stale pipeline stages with their reasons (gitml.pipeline.status.StageStatus),
    all of them or those named."""
    from gitml.pipeline.files import has_pipelines

    if names == [] or not has_pipelines(ws.root):
        return []
    from gitml.pipeline.status import stage_status as pipeline_status  # lazy: as above

    stale = pipeline_status(ws)
    return stale if names is None else [s for s in stale if s.name in names]
