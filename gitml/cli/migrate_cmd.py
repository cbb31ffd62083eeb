"""`gitml migrate dvc [--dry] [--fetch] [--json]`: turn a DVC repository into a gitml one."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gitml.cli.output import print_json

migrate_app = typer.Typer(help="Convert another tool's repository to gitml.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(migrate_app, name="migrate")


@migrate_app.command("dvc")
def migrate_dvc(
    ctx: typer.Context,
    dry: Annotated[bool, typer.Option("--dry", help="Show the plan; change nothing.")] = False,
    fetch: Annotated[
        bool, typer.Option("--fetch", help="Read data missing locally from DVC's remote.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Convert a DVC repository to gitml (DVC not needed).

    Converts dvc.yaml, dvc.lock, .dvc files and DVC remotes to gitml's. DVC's files stay
    in place; remove them with git once you are happy.
    """
    from pathlib import Path

    from gitml import git
    from gitml.ops.migrate_dvc import migrate
    from gitml.ui import make_progress
    from gitml.workspace import Workspace

    c: Any = ctx.obj
    quiet = c.quiet or as_json
    if dry:
        ws = Workspace(git.toplevel(Path.cwd()), make_progress(quiet))
    else:
        ws, created = Workspace.init()
        ws = Workspace(ws.root, make_progress(quiet))
        if created and not quiet:
            typer.echo(f"Initialized gitml workspace in {ws.gitml_dir}")

    def say(line: str) -> None:
        if not quiet:
            (sys.stderr if line.startswith("warning: ") else sys.stdout).write(line + "\n")

    result = migrate(ws, dry=dry, fetch=fetch, say=say)
    if as_json:
        print_json({"dry": dry, "converted": result.done, "warnings": result.warnings,
                    "files": result.touched})  # fmt: skip
        return
    if dry:
        c.say("(dry run: nothing was changed)")
    elif result.touched:
        c.say("\nTo track the changes with git, run:\n\n    git add " + " ".join(
            [".gitml/config", ".gitml/.gitignore", *result.touched]) + "\n")  # fmt: skip
