"""What `gitml repro` works on: its options and results, the stages a selection names,
and the dry run (`--dry`: what would run and why, changing nothing)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from gitml.errors import PipelineError
from gitml.pipeline import PIPELINE_FILE, runcache
from gitml.pipeline.dag import Graph, build_graph
from gitml.pipeline.model import LockedPath
from gitml.pipeline.observe import missing_params, observe_stage, param_values
from gitml.pipeline.project import Locks, load_pipelines
from gitml.pipeline.spec import Pipeline
from gitml.pipeline.stale import Observed, Reason, ReasonKind, missing_deps, why_stale
from gitml.workspace import Workspace

# Outcomes of one stage.
RAN, RESTORED, UNCHANGED, FAILED, SKIPPED, FROZEN = (
    "ran", "restored", "unchanged", "failed", "skipped", "frozen",
)  # fmt: skip
WOULD_RUN, WOULD_RESTORE = "would run", "would restore"


@dataclass
class StageResult:
    name: str
    outcome: str
    reasons: list[Reason] = field(default_factory=list)
    returncode: int | None = None
    message: str = ""
    duration_s: float | None = None  # wall time of judging, running and recording it
    worker: dict[str, object] | None = None  # --executor: host, duration, resource usage

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "outcome": self.outcome}
        data["reasons"] = [r.to_json() for r in self.reasons]
        if self.returncode is not None:
            data["returncode"] = self.returncode
        if self.message:
            data["message"] = self.message
        if self.duration_s is not None:
            data["duration_s"] = self.duration_s
        if self.worker is not None:
            data["worker"] = self.worker
        return data


@dataclass
class ReproResult:
    stages: list[StageResult]
    touched: list[str] = field(default_factory=list)  # git-tracked files repro changed

    @property
    def failed(self) -> list[StageResult]:
        return [s for s in self.stages if s.outcome == FAILED]


@dataclass(frozen=True)
class ReproOptions:
    targets: tuple[str, ...] = ()
    force: bool = False
    dry: bool = False
    downstream: bool = False
    single_item: bool = False  # only the targets, not the stages they need (DVC's -s)
    keep_going: bool = False
    jobs: int = 1
    run_cache: bool = True
    stage_output_to_stderr: bool = False  # --json: stdout holds only the JSON document
    capture_output: bool = False  # stage output goes line by line to `output` (exp run)


Emit = Callable[[str], None]
Output = Callable[[str, bytes], None]  # (stage, one line of its output)


def load(ws: Workspace) -> tuple[Pipeline, Graph]:
    pipeline = load_pipelines(ws.root)
    if pipeline is None:
        raise PipelineError(
            f"no {PIPELINE_FILE} in {ws.root}", hint="add a stage with 'gitml stage add'"
        )
    return pipeline, build_graph(pipeline.stages.values(), pipeline.file)


def select(pipeline: Pipeline, graph: Graph, options: ReproOptions) -> list[str]:
    if not options.targets:
        return graph.order()
    names = pipeline.select(list(options.targets))
    if options.single_item:
        return graph.order(names)
    wanted = graph.downstream(names) if options.downstream else graph.upstream(names)
    return graph.order(wanted)


def check_sources(ws: Workspace, pipeline: Pipeline, graph: Graph, order: list[str]) -> None:
    """A dep that is missing and that no stage produces can never be satisfied."""
    for name in order:
        for dep in pipeline.stages[name].deps:
            produced = graph.producer_of(dep) is not None or graph.producers_inside(dep)
            if not produced and not os.path.lexists(ws.root / dep):
                tracked = ws.has_pointer(dep)
                raise PipelineError(
                    f"stage '{name}': dependency '{dep}' does not exist and no stage produces it",
                    hint=f"it is tracked by gitml: run 'gitml checkout {dep}' or 'gitml pull'"
                    if tracked
                    else None,
                )


def describe(reasons: list[Reason], limit: int = 3) -> str:
    text = ", ".join(str(r) for r in reasons[:limit])
    return text + (f", and {len(reasons) - limit} more" if len(reasons) > limit else "")


def plan(ws: Workspace, options: ReproOptions) -> list[StageResult]:
    """--dry: what would run and why, changing nothing (beyond the stat cache)."""
    pipeline, graph = load(ws)
    order = select(pipeline, graph, options)
    check_sources(ws, pipeline, graph, order)
    lock = Locks.load(ws.root, pipeline)
    results: list[StageResult] = []
    will_run: set[str] = set()
    # Outs that stages restored from the run-cache would put in place: downstream stages
    # are judged against them, as the real repro judges them after the restore.
    restored: dict[str, LockedPath] = {}
    try:
        for name in order:
            stage = pipeline.stages[name]
            if stage.frozen:
                results.append(StageResult(name, FROZEN))
                continue
            observed = observe_stage(ws, stage)
            if restored:
                paths = {p: restored.get(p, v) for p, v in observed.paths.items()}
                observed = Observed(paths, observed.params)
            if options.force:
                reasons = [Reason(ReasonKind.FORCED)]
            else:
                reasons = why_stale(stage, lock.entries.get(name), observed)
            upstream = sorted(p for p in graph.parents[name] if p in will_run)
            if not reasons and upstream:
                reasons = [Reason(ReasonKind.UPSTREAM, upstream[0])]
            if not reasons:
                results.append(StageResult(name, UNCHANGED))
                continue
            outcome = WOULD_RUN
            if (
                options.run_cache
                and not options.force
                and not upstream
                and runcache.eligible(stage)
                and not missing_deps(stage, observed)
                and not missing_params(observed)
            ):
                deps = tuple(p for d in stage.deps if (p := observed.paths[d]) is not None)
                key = runcache.run_key(
                    stage.cmd, stage.cmd_is_list, stage.wdir, deps, param_values(observed),
                    [o.path for o in stage.outs],
                )  # fmt: skip
                hit = runcache.lookup(ws.cache, key)
                if hit is not None:
                    outcome = WOULD_RESTORE
                    restored.update({o.path: o for o in hit.entry.outs})
            if outcome == WOULD_RUN:
                will_run.add(name)
            results.append(StageResult(name, outcome, reasons))
    finally:
        ws.state.save()
    return results
