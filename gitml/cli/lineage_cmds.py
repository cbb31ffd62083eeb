"""`gitml lineage`: where a tracked output came from, where some bytes were tracked, and
whether everything that made an output is still stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gitml.cli.output import print_json


def register(app: typer.Typer) -> None:
    app.command()(lineage)


def lineage(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(help="A tracked output or stage out.", metavar="[PATH]")
    ] = None,
    rev: Annotated[
        str | None, typer.Option("--rev", help="Trace as recorded at this revision.")
    ] = None,
    find: Annotated[
        str | None,
        typer.Option(
            "--find",
            help="Name the commits and paths where FILE's bytes (or a blake3: id) were tracked.",
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Check every object of PATH's lineage is stored (exit 1 if not)."
        ),
    ] = False,
    remote: Annotated[
        str | None, typer.Option("-r", "--remote", help="Remote --verify looks in.")
    ] = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print a Mermaid graph.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Trace an output back to the stages, code, params and data."""
    from gitml.errors import UsageError

    if find is not None:
        if path is not None or verify or mermaid or rev is not None:
            raise UsageError("--find FILE takes no PATH, --rev, --verify or --mermaid")
        _find(ctx, find, as_json)
        return
    if path is None:
        raise UsageError("name a tracked output: gitml lineage PATH (or --find FILE)")
    if mermaid and (as_json or verify):
        raise UsageError("--mermaid cannot be combined with --json or --verify")
    ws = ctx.obj.workspace()
    traced = _trace(ws, path, rev)
    if verify:
        _verify(ws, traced, remote, as_json)
        return
    from gitml.lineage import render

    if as_json:
        print_json(traced.to_json())
    elif mermaid:
        typer.echo(render.mermaid(traced))
    else:
        typer.echo(render.text(traced))


def _trace(ws: Any, path: str, rev: str | None) -> Any:
    from gitml.lineage.trace import trace
    from gitml.lineage.view import RevisionView

    commit = None
    if rev is not None:
        from gitml.revisions import resolve

        commit = resolve(ws.root, rev)
    return trace(RevisionView(ws.root, commit, rev), ws.relpath(path), ws.cache)


def _verify(ws: Any, traced: Any, remote: str | None, as_json: bool) -> None:
    from gitml.lineage.verify import verify
    from gitml.repo import DataRepo

    with DataRepo.for_workspace(ws) as repo:
        result = verify(ws.root, traced, repo.source(remote))
    if as_json:
        print_json(result.to_json())
    else:
        if result.complete:
            typer.echo(
                f"Complete: all {result.checked} objects of the lineage are stored "
                f"({result.in_cache} in the cache, {result.on_remote} on the remote, "
                f"{result.in_git} in git)."
            )
        else:
            for m in result.missing:
                typer.echo(f"gitml: missing: {m.path} ({m.object}): {m.reason}", err=True)
    if not result.complete:
        raise typer.Exit(1)


def _find(ctx: typer.Context, file: str, as_json: bool) -> None:
    from gitml.errors import PathError
    from gitml.hashing import Oid, hash_file
    from gitml.lineage.find import find

    target = Path(file)
    if target.is_dir():
        raise PathError(f"{file}: is a directory; --find takes one file")
    if target.is_file():
        oid = hash_file(target)
    elif file.startswith("blake3:"):
        oid = Oid.parse(file)  # a content id, as lineage and pointer files print them
    else:
        raise PathError(f"{file}: no such file")
    ws = ctx.obj.workspace()
    found = find(ws.root, oid, ws)
    if as_json:
        print_json({"file": file, **found.to_json()})
    else:
        for m in found.matches:
            how = f"stage '{m.stage}' out" if m.stage else "gitml add"
            inside = f" (in {m.inside})" if m.inside else ""
            typer.echo(f"{m.commit[:12]}  {m.date[:10]}  {m.path}{inside}  [{how}]  {m.subject}")
        for ref, paths in found.refs.items():
            typer.echo(f"at {ref}: {', '.join(paths)}")
        for p in found.workspace:
            typer.echo(f"in the workspace: {p}")
    if not found.matches and not found.workspace:
        if not as_json:
            typer.echo(f"gitml: {file} ({oid}) was never a tracked output here", err=True)
        raise typer.Exit(1)
