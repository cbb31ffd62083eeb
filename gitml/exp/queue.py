"""The experiment queue: no daemon, no broker.

A queued experiment is a ref like any other (`refs/gitml/exps/<baseline>/<name>`) whose
record says `queued` and holds the overrides and stage targets; its commit holds the
params files as they will be. The queue file `.gitml/tmp/exp-queue` keeps the order in
which they were queued. `--run-all -j N` takes them in that order, N at a time, each in
its own temporary worktree; a run claims its experiment by moving the ref from the
queued commit to its `running` one (compare-and-swap), so two runners never take the
same experiment.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gitml.exp import overrides, refs, runner
from gitml.exp.overrides import Assignment
from gitml.exp.refs import QUEUED, ExpRef
from gitml.exp.runner import Emit, ExpRun, Output
from gitml.workspace import Workspace

QUEUE_FILE = "exp-queue"


def _encode(assignments: list[Assignment]) -> list[dict[str, Any]]:
    return [{"file": a.file, "key": a.key, "value": a.value, "add": a.add} for a in assignments]


def _decode(raw: Any) -> list[Assignment]:
    if not isinstance(raw, list):
        return []
    return [
        Assignment(str(d["file"]), str(d["key"]), d.get("value"), bool(d.get("add")))
        for d in raw
        if isinstance(d, dict) and "file" in d and "key" in d
    ]


def enqueue(
    ws: Workspace,
    baseline: str,
    name: str,
    assignments: list[Assignment],
    targets: tuple[str, ...],
) -> ExpRun:
    """Record a queued experiment; its overrides are checked now (on a scratch copy of
    the params files) so a bad key fails at `--queue`, not later."""
    from gitml.exp import meta
    from gitml.exp.worktree import temporary_worktree
    from gitml.pipeline.runmeta import now_iso

    info: dict[str, Any] = {
        "name": name,
        "state": QUEUED,
        "created": now_iso(),
        "overrides": _encode(assignments),
        "targets": list(targets),
    }
    with temporary_worktree(ws, baseline, name) as wt:
        changed = overrides.apply(wt.root, assignments)
        info["params"], _ = meta.pipeline_values(wt.root)
        commit = refs.build_commit(
            wt.root, wt.tmp_dir, baseline, runner.recorded_files(wt.root, changed), name, info
        )
    refs.create_ref(ws.root, baseline, name, commit)
    with open(ws.tmp_dir / QUEUE_FILE, "a", encoding="utf-8") as queue_file:
        queue_file.write(f"{baseline}/{name}\n")
    return ExpRun(name, baseline, commit, QUEUED, info=info)


def queued(ws: Workspace) -> list[ExpRef]:
    """Queued experiments, in the order they were queued (then any others by date)."""
    waiting = [e for e in refs.list_refs(ws.root) if e.state == QUEUED]
    try:
        order = (ws.tmp_dir / QUEUE_FILE).read_text("utf-8").split()
    except FileNotFoundError:
        order = []
    rank = {key: i for i, key in enumerate(order)}
    return sorted(
        waiting,
        key=lambda e: (rank.get(f"{e.baseline}/{e.name}", len(rank)), str(e.info.get("created"))),
    )


def run_all(ws: Workspace, *, jobs: int, emit: Emit, output: Output) -> list[ExpRun]:
    """Run every queued experiment, `jobs` at a time, each in a temporary worktree. A
    failure is recorded and the others go on."""
    from gitml.exp.worktree import run_temp

    todo = queued(ws)
    lock = threading.Lock()

    def one(exp: ExpRef) -> ExpRun:
        def tagged_emit(text: str) -> None:
            with lock:
                emit(f"[{exp.name}] {text}")

        def tagged_output(stage: str, line: bytes) -> None:
            output(stage, f"[{exp.name}] ".encode() + line)

        return run_temp(
            ws,
            exp.baseline,
            exp.name,
            _decode(exp.info.get("overrides")),
            tuple(exp.info.get("targets") or ()),
            emit=tagged_emit,
            output=tagged_output,
            queued_commit=exp.commit,
        )

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(one, todo))
    (ws.tmp_dir / QUEUE_FILE).unlink(missing_ok=True)
    return results
