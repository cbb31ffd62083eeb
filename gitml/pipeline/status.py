"""Stale stages for `gitml status`: which stages `repro` would run, and why."""

from __future__ import annotations

from dataclasses import dataclass

from gitml.pipeline.dag import build_graph
from gitml.pipeline.observe import observe_stage
from gitml.pipeline.project import Locks, load_pipelines
from gitml.pipeline.stale import Reason, why_stale
from gitml.workspace import Workspace


@dataclass(frozen=True)
class StageStatus:
    name: str
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "reasons": [r.to_json() for r in self.reasons]}

    def describe(self) -> str:
        return "; ".join(str(r) for r in self.reasons)


def stage_status(ws: Workspace) -> list[StageStatus]:
    """Stages (not frozen) whose gitml.lock entry no longer matches the workspace."""
    pipeline = load_pipelines(ws.root)
    if pipeline is None:
        return []
    graph = build_graph(pipeline.stages.values(), pipeline.file)
    lock = Locks.load(ws.root, pipeline)
    stale = []
    try:
        for name in graph.order():
            stage = pipeline.stages[name]
            if stage.frozen:
                continue
            reasons = why_stale(stage, lock.entries.get(name), observe_stage(ws, stage))
            if reasons:
                stale.append(StageStatus(name, tuple(reasons)))
    finally:
        ws.state.save()
    return stale
