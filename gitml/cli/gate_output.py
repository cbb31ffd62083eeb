"""How every gate (`metrics diff --fail-if`, `model promote --fail-if`, `gitml check`)
reports: a table or Markdown rows with failing ones marked, one stderr line per failing
expression, the notify hook, and exit 1 when the gate says no."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from gitml.gates import Outcome


def gate_rows(outcomes: list[Outcome]) -> list[list[str]]:
    from gitml.pipeline.metrics import show_value

    def num(value: Any) -> str:
        return "-" if value is None else show_value(value)

    return [
        [
            "FAIL" if o.failed else ("skip" if o.skipped else "ok"),
            o.expression.text,
            num(o.old),
            num(o.new),
            num(o.value) if o.missing is None else (o.missing or "-"),
        ]
        for o in outcomes
    ]


def gate_table(outcomes: list[Outcome], *, markdown: bool) -> str:
    from gitml.pipeline.metrics import table

    rows = gate_rows(outcomes)
    if markdown:
        marks = {"FAIL": ":x: **fail**", "ok": ":white_check_mark: pass", "skip": "skipped"}
        rows = [[marks[r[0]], f"`{r[1]}`", *r[2:]] for r in rows]
    return table(["Gate", "Expression", "Old", "New", "Value"], rows, markdown=markdown)


def say_failures(outcomes: list[Outcome], what: str = "gate") -> None:
    for outcome in outcomes:
        if outcome.failed:
            typer.echo(f"gitml: {what} failed: {outcome.describe()}", err=True)
        elif outcome.skipped:
            typer.echo(f"gitml: {what} skipped: {outcome.describe()}", err=True)


def send_notifications(root: Any, config: Any, report: dict[str, Any]) -> None:
    """Send `report` to every `[notify.NAME]`; a failure to send is a warning line only."""
    from gitml.notify import notify

    for warning in notify(config, report, cwd=root):
        typer.echo(f"gitml: warning: {warning}", err=True)
