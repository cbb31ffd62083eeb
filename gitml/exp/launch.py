"""Where each experiment of an `exp run` runs: the workspace, a temporary worktree
(`--temp`), or the queue (`--queue`, then `--run-all -j N`)."""

from __future__ import annotations

from gitml.errors import UsageError
from gitml.exp import refs, runner
from gitml.exp.overrides import Assignment
from gitml.exp.runner import Emit, ExpRun, Output
from gitml.workspace import Workspace


def launch(
    ws: Workspace,
    runs: list[list[Assignment]],
    *,
    name: str | None,
    targets: tuple[str, ...],
    temp: bool,
    queue: bool,
    run_all: bool,
    jobs: int,
    emit: Emit,
    output: Output,
) -> list[ExpRun]:
    if run_all:
        from gitml.exp import queue as exp_queue

        return exp_queue.run_all(ws, jobs=jobs, emit=emit, output=output)
    _check_pipeline(ws, targets)
    baseline = refs.baseline_of(ws.root)
    names: list[str] = []
    for _ in runs:
        names.append(runner.pick_name(ws.root, baseline, name, set(names)))
    if queue:
        from gitml.exp import queue as exp_queue

        return [
            exp_queue.enqueue(ws, baseline, n, assignments, targets)
            for n, assignments in zip(names, runs, strict=True)
        ]
    if temp:
        from gitml.exp import worktree

        return [
            worktree.run_temp(ws, baseline, n, assignments, targets, emit=emit, output=output)
            for n, assignments in zip(names, runs, strict=True)
        ]
    if jobs > 1:
        raise UsageError("-j runs queued experiments in parallel: use it with --run-all")
    return _in_workspace(ws, baseline, names, runs, targets, emit, output)


def _check_pipeline(ws: Workspace, targets: tuple[str, ...]) -> None:
    """A pipeline that cannot run at all is bad input, not a failed experiment."""
    from gitml.pipeline.repro_plan import ReproOptions, load, select

    pipeline, graph = load(ws)
    select(pipeline, graph, ReproOptions(targets=targets))


def _in_workspace(
    ws: Workspace,
    baseline: str,
    names: list[str],
    runs: list[list[Assignment]],
    targets: tuple[str, ...],
    emit: Emit,
    output: Output,
) -> list[ExpRun]:
    """One after another in the workspace; each run of a grid starts from the params
    files as they were, and the workspace is left with the last one."""
    files = {a.file for assignments in runs for a in assignments}
    original = {f: (ws.root / f).read_bytes() for f in files if (ws.root / f).is_file()}
    results = []
    for i, (n, assignments) in enumerate(zip(names, runs, strict=True)):
        if i:
            from gitml.fsutil import atomic_write_bytes

            for f, data in original.items():
                atomic_write_bytes(ws.root / f, data)
        if len(runs) > 1:
            emit(f"Experiment '{n}' ({i + 1} of {len(runs)}):")
        results.append(
            runner.run(
                ws,
                assignments,
                name=n,
                baseline=baseline,
                targets=targets,
                emit=emit,
                output=output,
            )
        )
    return results
