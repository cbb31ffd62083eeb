"""`gitml plots show|diff`: the plots stages declare, drawn at revisions on one offline
HTML page (or printed as Vega-Lite specifications with --json)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gitml.cli.output import print_json

plots_app = typer.Typer(
    help="Draw the plots stages declare, across revisions.", no_args_is_help=True
)

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the chart specifications (Vega-Lite) as JSON.")
]
OutOpt = Annotated[Path, typer.Option("-o", "--out", help="Folder to write index.html into.")]
DEFAULT_OUT = Path("gitml_plots")


def register(app: typer.Typer) -> None:
    app.add_typer(plots_app, name="plots")


def _render(
    ctx: typer.Context, names: list[str | None], targets: list[str], out: Path, as_json: bool
) -> None:
    from gitml.plots.page import chart_section
    from gitml.plots.show import charts, revisions, write_page

    ws = ctx.obj.workspace()
    relpaths = [ws.relpath(t) for t in targets]
    revs = revisions(ws.root, names)
    drawn = charts(ws, revs, relpaths)
    if as_json:
        print_json({"revisions": [r.label for r in revs], "plots": [c.to_json() for c in drawn]})
        return
    if not drawn:
        ctx.obj.say("No plots: no stage in gitml.yaml declares any.")
        return
    title = "gitml plots: " + " vs ".join(r.label for r in revs)
    page = write_page(out, title, [chart_section(c) for c in drawn])
    ctx.obj.say(f"Wrote {page} ({len(drawn)} plots, {len(revs)} revisions)")


@plots_app.command("show")
def plots_show(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None, typer.Argument(help="Only these plot files.", metavar="[PATH]...")
    ] = None,
    revs: Annotated[
        list[str] | None,
        typer.Option("--rev", help="Revision (repeat for several; default: the workspace)."),
    ] = None,
    out: OutOpt = DEFAULT_OUT,
    as_json: JsonOpt = False,
) -> None:
    """Draw each declared plot, one series per revision.

    Writes OUT/index.html.
    """
    names: list[str | None] = list(revs) if revs else [None]
    _render(ctx, names, targets or [], out, as_json)


@plots_app.command("diff")
def plots_diff(
    ctx: typer.Context,
    rev_a: Annotated[
        str | None, typer.Argument(help="Old revision (default HEAD).", metavar="[A]")
    ] = None,
    rev_b: Annotated[
        str | None, typer.Argument(help="New revision (default: the workspace).", metavar="[B]")
    ] = None,
    targets: Annotated[
        list[str] | None, typer.Option("--target", help="Only this plot file (repeatable).")
    ] = None,
    out: OutOpt = DEFAULT_OUT,
    as_json: JsonOpt = False,
) -> None:
    """Draw each declared plot at two revisions on one chart.

    The revisions default to HEAD and the workspace.
    """
    names: list[Any] = [rev_a or "HEAD", rev_b]
    _render(ctx, names, targets or [], out, as_json)
