"""`gitml commit` of stages (as `dvc commit`): record outputs already in the workspace.

The stage is not run: its deps, params and outs are hashed as they are now, the outs are
cached, and its gitml.lock entry (and the run-cache) is written as if the stage had run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitml.errors import PipelineError
from gitml.pipeline.dag import build_graph
from gitml.pipeline.observe import missing_params, observe_stage, param_values
from gitml.pipeline.project import Locks, load_pipelines
from gitml.pipeline.repro import StageRunner
from gitml.pipeline.repro_plan import ReproOptions
from gitml.pipeline.spec import Pipeline
from gitml.pipeline.stale import why_stale
from gitml.tabular.checks import refuse_invalid
from gitml.workspace import Workspace


@dataclass
class StageCommit:
    stages: list[tuple[str, bool]] = field(default_factory=list)  # (address, changed)
    touched: list[str] = field(default_factory=list)  # git-tracked files written


def _owner(pipeline: Pipeline, relpath: str) -> str | None:
    for key, stage in pipeline.stages.items():
        if any(relpath == o.path or relpath.startswith(o.path + "/") for o in stage.outs):
            return key
    return None


def stage_targets(ws: Workspace, paths: list[str]) -> tuple[list[str], list[str]]:
    """Split user targets into stage addresses (a stage name or address, or a path that
    is a stage output) and the rest (outputs tracked by pointer files)."""
    pipeline = load_pipelines(ws.root) if paths else None
    if pipeline is None:
        return [], paths
    stages: list[str] = []
    rest: list[str] = []
    for text in paths:
        if not Path(text).exists():
            try:
                stages.extend(pipeline.select([text]))
                continue
            except PipelineError:
                pass
        owner = _owner(pipeline, ws.relpath(text))
        if owner is not None:
            stages.append(owner)
        else:
            rest.append(text)
    return list(dict.fromkeys(stages)), rest


def commit_stages(ws: Workspace, keys: list[str] | None, *, verify: bool = True) -> StageCommit:
    """Record the named stages (None: every stage not frozen whose outs all exist); with
    `verify`, an out that breaks its declared schema stops the commit before its stage."""
    result = StageCommit()
    with ws.locked():
        pipeline = load_pipelines(ws.root)
        if pipeline is None:
            return result
        graph = build_graph(pipeline.stages.values(), pipeline.file)
        locks = Locks.load(ws.root, pipeline)
        runner = StageRunner(
            ws, pipeline, graph, locks, ReproOptions(), lambda _t: None, lambda _s, _l: None, None
        )
        named = keys is not None
        try:
            for key in graph.order(set(keys) if keys is not None else None):
                stage = pipeline.stages[key]
                if stage.frozen and not named:
                    continue
                observed = observe_stage(ws, stage)
                missing = [o.path for o in stage.outs if observed.paths.get(o.path) is None]
                if missing and not named:
                    continue  # never produced here: nothing to record
                if not why_stale(stage, locks.entries.get(key), observed):
                    result.stages.append((key, False))
                    continue
                if missing:
                    raise PipelineError(
                        f"stage '{key}': output '{missing[0]}' does not exist",
                        hint="run 'gitml repro' to produce it",
                    )
                deps = [observed.paths[d] for d in stage.deps]
                absent = [d for d, p in zip(stage.deps, deps, strict=True) if p is None]
                if absent:
                    raise PipelineError(f"stage '{key}': dependency '{absent[0]}' is missing")
                if missing_params(observed):
                    name = missing_params(observed)[0]
                    raise PipelineError(f"stage '{key}': parameter '{name}' is missing")
                if verify:
                    refuse_invalid(ws, [o.path for o in stage.outs])
                locked = tuple(p for p in deps if p is not None)
                runner._commit(stage, locked, param_values(observed))
                result.stages.append((key, True))
        finally:
            ws.state.save()
        result.touched = list(runner.touched)
    return result
