"""`gitml exp run` in a work tree: set the params, run what is stale (`repro` with its
run-cache), record the result as an experiment. The work tree is the workspace itself
or a temporary worktree (`gitml/exp/worktree.py`); HEAD, branch and index never move."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import GitmlError
from gitml.exp import meta, names, overrides, refs
from gitml.exp.refs import FAILED, RUNNING, SUCCESS
from gitml.pipeline import LOCK_FILE
from gitml.workspace import Workspace

TAIL_LINES = 20
Emit = Callable[[str], None]
Output = Callable[[str, bytes], None]


@dataclass
class ExpRun:
    name: str
    baseline: str
    commit: str
    state: str
    message: str = ""
    stages: list[Any] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "rev": self.commit,
            "baseline": self.baseline,
            "state": self.state,
        }
        if self.message:
            data["error"] = self.message
        if self.stages:
            data["stages"] = [s.to_json() for s in self.stages]
        return data


def pick_name(root: Path, baseline: str, name: str | None, also_taken: set[str]) -> str:
    taken = {e.name for e in refs.list_refs(root, baseline)} | also_taken
    if name is None:
        return names.generate(taken)
    refs.check_name(name)
    if name in taken:
        raise refs.name_taken(baseline, name)
    return name


def recorded_files(root: Path, changed: list[str]) -> list[str]:
    """What an experiment commit holds besides tracked changes: params files, gitml.lock,
    metrics files (cached metrics outs too, so git can read them)."""
    from gitml.pipeline.metrics import metrics_files, params_targets
    from gitml.pipeline.project import load_pipelines

    files = list(changed)
    try:
        pipeline = load_pipelines(root)
    except GitmlError:
        pipeline = None
    if pipeline is not None:
        files += list(params_targets(pipeline)) + metrics_files(pipeline)
    return list(dict.fromkeys([*files, LOCK_FILE]))


def run(
    ws: Workspace,
    assignments: list[overrides.Assignment],
    *,
    name: str,
    baseline: str,
    targets: tuple[str, ...] = (),
    jobs: int = 1,
    emit: Emit,
    output: Output,
    record_root: Path | None = None,
    queued_commit: str | None = None,
) -> ExpRun:
    """Run one experiment in `ws` (the workspace or a worktree). Its ref is created as
    `running` first (which also claims the name), then moved to the final record.
    `record_root` is the repository whose refs hold experiments (default: ws.root)."""
    from gitml.pipeline.repro import repro
    from gitml.pipeline.repro_plan import ReproOptions

    root = ws.root
    refs_root = record_root or root
    clock = meta.RunClock(root)
    changed = overrides.apply(root, assignments)
    info: dict[str, Any] = {"name": name, "state": RUNNING, "created": clock.started}
    info["params"], _ = meta.pipeline_values(root)
    running = refs.placeholder_commit(root, baseline, name, info)
    if queued_commit is None:
        refs.create_ref(refs_root, baseline, name, running)
    else:
        refs.move_ref(refs_root, baseline, name, running, queued_commit)
    tails: dict[str, collections.deque[str]] = {}

    def capture(stage: str, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\n")
        tails.setdefault(stage, collections.deque(maxlen=TAIL_LINES)).append(text)
        output(stage, line)

    stages: list[Any] = []
    error = ""
    try:
        options = ReproOptions(targets=targets, jobs=jobs, capture_output=True)
        result = repro(ws, options, emit, capture)
        stages = result.stages
        failed = result.failed
        if failed:
            error = f"stage '{failed[0].name}' failed: {failed[0].message}"
            info["stderr_tail"] = "\n".join(tails.get(failed[0].name, ()))
    except GitmlError as exc:
        error = exc.message
    except BaseException:  # Ctrl-C: the experiment is recorded as failed, then we stop
        info.update(state=FAILED, duration_s=clock.elapsed(), error="interrupted")
        final = refs.placeholder_commit(root, baseline, name, info)
        refs.move_ref(refs_root, baseline, name, final, running)
        raise
    params, metrics = meta.pipeline_values(root)
    state = FAILED if error else SUCCESS
    info.update(
        state=state,
        duration_s=clock.elapsed(),
        meta=clock.finish(stages),
        params=params,
        metrics=metrics,
    )
    if error:
        info["error"] = error
    final = refs.build_commit(root, ws.tmp_dir, baseline, recorded_files(root, changed), name, info)
    refs.move_ref(refs_root, baseline, name, final, running)
    return ExpRun(name, baseline, final, state, error, stages, info)
