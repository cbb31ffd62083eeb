"""`gitml metrics diff --fail-if EXPR...`: the diff, then the gates on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from gitml.cli.gate_output import gate_table, say_failures, send_notifications
from gitml.cli.output import print_json

if TYPE_CHECKING:
    from gitml.gates import Expression, Values
    from gitml.pipeline.metrics import Change
    from gitml.workspace import Workspace


def gate_metrics_diff(
    ws: Workspace,
    changes: list[Change],
    values: tuple[Values, Values],
    labels: tuple[str, str],
    expressions: list[Expression],
    *,
    allow_missing: bool,
    notify: bool,
    as_json: bool,
    md: bool,
) -> None:
    from gitml.gates import evaluate_all, passed
    from gitml.pipeline.metrics import diff_json, show_change, show_value, table

    outcomes = evaluate_all(expressions, *values, allow_missing=allow_missing)
    ok = passed(outcomes)
    document: dict[str, Any] = {
        **diff_json(changes),
        "gates": [o.to_json() for o in outcomes],
        "passed": ok,
    }
    if as_json:
        print_json(document)
    else:
        if changes:
            rows = [
                [c.file, c.key, show_value(c.old), show_value(c.new), show_change(c)]
                for c in changes
            ]
            header = ["Path", "Metric", labels[0], labels[1], "Change"]
            typer.echo(table(header, rows, markdown=md) + "\n")
        typer.echo(gate_table(outcomes, markdown=md))
    say_failures(outcomes)
    if not ok:
        if notify:
            report = {"kind": "metrics diff", "old": labels[0], "new": labels[1], **document}
            send_notifications(ws.root, ws.config, report)
        raise typer.Exit(1)
