"""`gitml status` (local): what it prints and its exit code. No typer here: a plain
`gitml status` runs from gitml/cli/fast.py without importing it."""

from __future__ import annotations

import sys
from typing import Any

from gitml.cli.output import print_json


def open_workspace(quiet: bool) -> Any:
    from gitml.ui import make_progress
    from gitml.workspace import Workspace

    ws = Workspace.find(progress=make_progress(quiet))
    _ = ws.config  # a malformed config is refused by every command, not only those using it
    return ws


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def show_status(quiet: bool, paths: list[str] | None, as_json: bool) -> int:
    """Print the status of tracked outputs and stages; the exit code (1 with -q when
    anything changed). Unreadable pointers: one line each on stderr, then GitmlError."""
    from gitml.ops.status import select_targets, stage_status
    from gitml.ops.status import status as do_status

    ws = open_workspace(quiet)
    targets = select_targets(ws, paths)
    results = do_status(ws, targets.outputs)
    stages = stage_status(ws, targets.stages)
    errors = [r for r in results if r.state == "error"]
    if as_json:
        doc: dict[str, object] = {"outputs": [r.to_json() for r in results]}
        from gitml.pipeline.files import has_pipelines

        if has_pipelines(ws.root):  # "stages" only in workspaces with a pipeline
            doc["stages"] = [s.to_json() for s in stages]
        print_json(doc)
        _fail_on_errors(errors)
        return 0
    results = [r for r in results if r.state != "error"]
    if not results and not stages:
        _fail_on_errors(errors)
        if not quiet:
            _say("Everything is up to date.")
        return 0
    if quiet:
        # As `dvc status -q`: nothing printed, the exit code says whether anything changed.
        _fail_on_errors(errors)
        return 1
    for s in stages:
        _say(f"\tstale stage:    {s.name} ({s.describe()})")
    for r in results:
        extra = f" ({r.message})" if r.message else ""
        _say(f"\t{r.state + ':':<14} {ws.display(r.path)}{extra}")
        for key in ("added", "modified", "deleted"):
            for name in getattr(r, key)[:20]:
                _say(f"\t\t{key}: {name}")
            if len(getattr(r, key)) > 20:
                _say(f"\t\t... and {len(getattr(r, key)) - 20} more {key}")
    _fail_on_errors(errors)
    return 0


def _fail_on_errors(errors: list[Any]) -> None:
    """Unreadable pointers: one line each on stderr and exit 1, as `checkout` does."""
    from gitml.errors import GitmlError

    if errors:
        sys.stdout.flush()
    for r in errors[:-1]:
        sys.stderr.write(f"gitml: error: {r.message}\n")
    if errors:
        raise GitmlError(errors[-1].message)
