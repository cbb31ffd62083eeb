"""`gitml install [--uninstall] [--strict]` and the hidden `gitml git-hook NAME`, which
`.pre-commit-hooks.yaml` (the pre-commit framework) runs. The installed hook scripts run
the same code through `python -m gitml.cli.git_hook`, which skips typer (hooks must be
fast)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(install)
    app.command(
        "git-hook",
        hidden=True,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )(git_hook)


def _say(ctx: typer.Context, message: str) -> None:
    if not ctx.obj.quiet:
        typer.echo(message)


def install(
    ctx: typer.Context,
    uninstall: Annotated[
        bool, typer.Option("--uninstall", help="Remove gitml's hooks; put back the ones it moved.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="pre-commit blocks the commit (instead of warning)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Install gitml's git hooks.

    pre-commit (stale pointers), pre-push (push data), post-checkout and post-merge
    (check out data). Hooks already there keep running, first.
    """
    from gitml import hooks

    ws = ctx.obj.workspace()
    changes = hooks.uninstall(ws.root) if uninstall else hooks.install(ws.root, strict=strict)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "hooks_dir": str(hooks.hooks_dir(ws.root)),
                    "hooks": [c.to_json() for c in changes],
                },
                indent=2,
            )
            + "\n"
        )
        return
    for c in changes:
        if c.action != "absent":
            _say(ctx, f"{c.action:>9} {c.name}" + (f" ({c.detail})" if c.detail else ""))
    if not uninstall:
        _say(ctx, f"Hooks are in {hooks.hooks_dir(ws.root)}")


def git_hook(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="pre-commit, pre-push, post-checkout, post-merge.")],
    strict: Annotated[bool, typer.Option("--strict")] = False,
) -> None:
    """Run one of gitml's git hooks (used by the installed scripts and pre-commit)."""
    from gitml.cli import git_hook as runner

    runner.run(name, [a for a in ctx.args if a != "--"], strict=strict, quiet=ctx.obj.quiet)
