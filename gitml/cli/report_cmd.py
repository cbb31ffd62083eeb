"""`gitml report`: experiments, metrics over recent commits, registry stages and check
results, as one offline HTML page or as Markdown for a pull-request comment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitml.cli.output import print_json


def register(app: typer.Typer) -> None:
    app.command()(report)


def report(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Folder to write index.html into.")
    ] = Path("gitml_report"),
    md: Annotated[
        bool, typer.Option("--md", help="Print Markdown (Mermaid charts) instead of a page.")
    ] = False,
    commits: Annotated[
        int, typer.Option("-n", "--commits", min=1, help="How many recent commits to chart.")
    ] = 10,
    checks: Annotated[
        Path | None,
        typer.Option("--checks", help="A saved 'gitml check --json' output to include."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Write one page of experiments, metrics, registry and checks.

    The experiments, metrics over the recent commits, the registry's stages and the
    last check results.
    """
    from gitml.report.collect import collect

    data = collect(ctx.obj.workspace(), commits=commits, checks_file=checks)
    if as_json:
        print_json(data.to_json())
        return
    from gitml.report import render

    if md:
        typer.echo(render.markdown(data), nl=False)
        return
    from gitml.plots.show import write_page

    page = write_page(out, "gitml report", render.html_sections(data))
    ctx.obj.say(f"Wrote {page}")
