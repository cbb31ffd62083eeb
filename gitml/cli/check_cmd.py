"""`gitml check`: the checks `checks:` in gitml.yaml declares; one exit code for CI."""

from __future__ import annotations

from typing import Annotated

import typer

from gitml.cli.gate_output import send_notifications
from gitml.cli.output import print_json


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    ctx: typer.Context,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", metavar="REV", help="Compare with REV (default checks.baseline)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    allow_missing: Annotated[
        bool, typer.Option("--allow-missing", help="Skip gates whose values are missing.")
    ] = False,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the report to [notify.*] when a check fails.")
    ] = False,
) -> None:
    """Run the checks under `checks:` in gitml.yaml.

    Exits 1 if any check fails.
    """
    from gitml.checks import report, run_checks

    ws = ctx.obj.workspace()
    results = run_checks(ws, baseline=baseline, allow_missing=allow_missing)
    document = report(results, baseline or _declared_baseline(ws.root))
    if as_json:
        print_json(document)
    elif not results:
        ctx.obj.say("No checks declared (add 'checks:' to gitml.yaml).")
    else:
        for result in results:
            state = "passed" if result.passed else "FAILED"
            ctx.obj.say(f"{state:<7} {result.kind}: {result.target}")
    for result in results:
        for problem in result.problems:
            typer.echo(f"gitml: check failed: {result.kind} {result.target}: {problem}", err=True)
    if not document["passed"]:
        if notify:
            send_notifications(ws.root, ws.config, {"kind": "check", **document})
        raise typer.Exit(1)


def _declared_baseline(root: object) -> str | None:
    from pathlib import Path

    from gitml.checks import BASELINE_KEY, declared

    value = declared(Path(str(root))).get(BASELINE_KEY)
    return None if value is None else str(value)
