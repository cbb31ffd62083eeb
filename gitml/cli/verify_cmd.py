"""`gitml verify [--remote NAME] [--all-commits] [--repair] [--json]`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gitml.cli.output import human_size, print_json
from gitml.errors import GitmlError


def register(app: typer.Typer) -> None:
    app.command()(verify)


def verify(
    ctx: typer.Context,
    remote: Annotated[
        str | None,
        typer.Option("-r", "--remote", help="Also read back every needed object on this remote."),
    ] = None,
    all_commits: Annotated[
        bool, typer.Option("--all-commits", help="Every commit of every branch and tag.")
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Fetch missing or corrupt cache objects again from the remote "
            "(--remote, else the default).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Re-hash the objects needed, in the cache and on a remote.

    Checks what the workspace (or every commit) needs. Names each missing or corrupt
    object and the outputs that use it; exits 1 if any.
    """
    from gitml.ops.verify import verify as do_verify
    from gitml.repo import open_store

    ws = ctx.obj.workspace()
    report = do_verify(
        ws,
        remote=remote,
        all_commits=all_commits,
        repair=repair,
        open_store=lambda name: open_store(ws, name, None),
    )
    if as_json:
        print_json(report.to_json())
    else:
        _print(ctx, report)
    bad = report.unrepaired
    if bad:
        raise GitmlError(
            f"{len(bad)} missing or corrupt object(s)" + ("" if as_json else ": see above"),
            hint=None if repair else _hint(bad),
        )


def _hint(bad: list[Any]) -> str | None:
    if any(p.place == "cache" for p in bad):
        return "run 'gitml verify --repair' to fetch them again from the remote"
    return (
        "'gitml push' uploads missing objects again; a corrupt remote file must be deleted "
        "first (then push from a clone whose cache has its objects intact)"
    )


def _print(ctx: typer.Context, report: Any) -> None:
    where = "the cache"
    if report.remote_objects:
        where += f" and on remote '{report.remote}'"
    for p in report.problems:
        state = "repaired" if p.repaired else p.state
        users = ", ".join(p.users) + (f" and {p.more_users} more" if p.more_users else "")
        typer.echo(f"{state} ({p.place}): {p.message}")
        if users:
            typer.echo(f"\tused by {users}")
    if not ctx.obj.quiet:
        repaired = sum(p.repaired for p in report.problems)
        plural = "" if report.objects == 1 else "s"
        typer.echo(
            f"Verified {report.objects} object{plural} ({human_size(report.bytes)}) "
            f"in {where}: "
            + (f"{len(report.unrepaired)} problem(s)" if report.unrepaired else "all intact")
            + (f" ({repaired} repaired)" if repaired else "")
        )
