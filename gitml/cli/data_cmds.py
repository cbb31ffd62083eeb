"""`gitml validate` and `gitml drift`: data checks on tabular files (SPEC 7.5)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gitml.cli.output import print_json
from gitml.errors import DataCheckFailedError, UsageError


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(drift)


def _workspace_or_none() -> Any:
    from gitml.errors import NotAWorkspaceError
    from gitml.workspace import Workspace

    try:
        return Workspace.find()
    except NotAWorkspaceError:
        return None


def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Tabular files or folders of them.", metavar="PATH...")
    ],
    schema: Annotated[
        str | None,
        typer.Option("--schema", help="Schema file (default: the one gitml.yaml declares)."),
    ] = None,
    rev: Annotated[
        str | None, typer.Option("--rev", help="Check the data at this revision.")
    ] = None,
    infer: Annotated[
        bool, typer.Option("--infer", help="Print a schema inferred from the data instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Check data against its schema; exit 1 on any violation. --infer prints a schema."""
    from gitml.tabular import checks

    ws = _workspace_or_none()
    if infer:
        if len(paths) != 1 or schema is not None:
            raise UsageError("--infer takes exactly one PATH and no --schema")
        doc = checks.infer_schema(ws, paths[0], rev)
        if as_json:
            print_json(doc)
        else:
            import yaml

            typer.echo(yaml.safe_dump(doc, sort_keys=False).rstrip())
        return
    reports = [checks.validate_path(ws, path, schema, rev) for path in paths]
    if as_json:
        print_json(
            {"passed": all(r.passed for r in reports), "targets": [r.to_json() for r in reports]}
        )
    else:
        for report in reports:
            _print_report(ctx, report)
    failed = [r for r in reports if not r.passed]
    if failed:
        count = sum(len(r.violations) for r in failed)
        names = ", ".join(r.target for r in failed)
        raise DataCheckFailedError(f"{count} schema violation(s) in {names}")


def _print_report(ctx: typer.Context, report: Any) -> None:
    from gitml.tabular.validate import _json_value

    if report.passed:
        if not ctx.obj.quiet:
            typer.echo(f"{report.target}: valid ({report.rows} rows, schema {report.schema})")
        return
    typer.echo(
        f"{report.target}: {len(report.violations)} violation(s) of {report.schema}"
        f" ({report.rows} rows)"
    )
    for v in report.violations:
        where = v.column if v.column is not None else "(table)"
        example = "" if v.example is None and v.row is None else "  e.g. "
        if v.example is not None:
            example += repr(_json_value(v.example))
        if v.row is not None:
            example += f" (row {v.row})"
        typer.echo(f"  {where}: {v.check}: expected {v.expected}; {v.bad_rows} bad rows{example}")


def drift(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Tabular file or folder.")],
    rev: Annotated[str, typer.Option("--rev", help="Reference revision (the data learned from).")],
    against: Annotated[
        str | None, typer.Option("--against", help="Revision to compare (default: the work tree).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="A gate: exit 1 when any column drifted.")
    ] = False,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            "-t",
            help="[COLUMN:]STAT=VALUE, STAT one of psi, ks, wasserstein, jensen_shannon, "
            "null_rate; VALUE 'off' disables. Repeatable.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    as_md: Annotated[bool, typer.Option("--md", help="Print a Markdown table.")] = False,
) -> None:
    """Compare data between two revisions, column by column.

    The data at --rev against --against (default: the work tree).
    """
    from gitml.tabular import checks
    from gitml.tabular.drift import parse_thresholds
    from gitml.workspace import Workspace

    if as_json and as_md:
        raise UsageError("--json and --md cannot be combined")
    overrides = parse_thresholds(threshold or [])
    report = checks.drift(Workspace.find(), path, rev, against, overrides)
    if as_json:
        print_json(report.to_json())
    else:
        from gitml.cli.drift_render import render_markdown, render_text

        typer.echo(render_markdown(report) if as_md else render_text(report))
    if check and report.drifted:
        raise DataCheckFailedError(
            f"drift in {len(report.drifted)} column(s) of {path}: {', '.join(report.drifted)}"
        )
