"""`gitml status --remote`: per output, the objects a remote lacks. Nothing is written
anywhere; a use case that returns data."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitml.errors import ObjectNotFoundError
from gitml.manifest import Manifest, parse_manifest
from gitml.ops.pipeline_sync import runs_missing
from gitml.ops.sync import (
    complete_dirs,
    plan_objects,
    vouched_objects,
    workspace_targets,
)
from gitml.outputs import TrackedOutput
from gitml.repo import open_store
from gitml.workspace import Workspace


@dataclass
class OutputRemoteStatus:
    path: str
    missing: int  # objects the remote lacks
    missing_bytes: int
    not_in_cache: int  # of those, how many the local cache lacks too (cannot be pushed)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "missing_objects": self.missing,
            "missing_bytes": self.missing_bytes,
            "not_in_cache": self.not_in_cache,
        }


@dataclass
class RemoteStatus:
    remote: str
    checked: int  # objects looked at
    outputs: list[OutputRemoteStatus] = field(default_factory=list)
    runs_missing: int | None = None  # run-cache entries a push would send

    def to_json(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "checked_objects": self.checked,
            "missing_objects": sum(o.missing for o in self.outputs),
            "outputs": [o.to_json() for o in self.outputs],
            **({"runs_missing": self.runs_missing} if self.runs_missing is not None else {}),
        }


def remote_status(
    ws: Workspace, remote: str | None = None, user_paths: list[str] | None = None
) -> RemoteStatus:
    """Per output, the objects the remote lacks (nothing is written anywhere)."""
    store = open_store(ws, remote, None)
    targets = workspace_targets(ws, user_paths)

    def load(target: TrackedOutput) -> Manifest | None:
        oid = target.pointer.oid
        if ws.cache.exists(oid):
            return ws.cache.load_manifest(oid)
        try:
            return parse_manifest(store.read_object(oid, target.path), f"manifest {oid}")
        except ObjectNotFoundError:
            return None

    asked, complete = complete_dirs(store, targets)
    plan = plan_objects(targets, load, complete)
    wanted = set(plan.files) | set(plan.manifests)
    vouched = vouched_objects(store, plan, asked, complete)
    present = store.present(wanted - vouched) | vouched
    status = RemoteStatus(store.name, len(wanted))
    not_cached = set(ws.cache.missing(list(wanted - present)))
    for output in sorted(set(plan.by_output) | set(plan.unavailable)):
        items = list({i.oid: i for i in plan.by_output.get(output, [])}.values())
        if output in plan.unavailable:
            status.outputs.append(OutputRemoteStatus(output, 1, 0, 1))
            continue
        lacking = [i for i in items if i.oid not in present]
        if lacking:
            status.outputs.append(
                OutputRemoteStatus(
                    output,
                    len(lacking),
                    sum(i.size for i in lacking),
                    sum(1 for i in lacking if i.oid in not_cached),
                )
            )
    if not user_paths:
        status.runs_missing = runs_missing(ws, store)
    return status
