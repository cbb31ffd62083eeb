"""The `gitml` command. Commands are thin: parse, call a use case, print. The use cases
are imported inside each command so `gitml status` pays only for what it uses."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gitml import __version__
from gitml.cli.common import GLOBAL_FLAGS, hoist_global_flags, report_failure

app = typer.Typer(
    name="gitml",
    help="Version large data and models next to your code, in git.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help, laid out as git's (see cli/help_style.py)
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Ctx:
    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose

    def workspace(self) -> Any:
        from gitml.cli.status_cmd import open_workspace

        return open_workspace(self.quiet)

    def say(self, message: str) -> None:
        if not self.quiet:
            typer.echo(message)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitml {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Explain; tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = Ctx(quiet, verbose)


def _git_hint(ctx: Ctx, files: list[str]) -> None:
    from gitml.cli.add_cmd import git_hint

    git_hint(ctx.quiet, files)


@app.command()
def init(ctx: typer.Context) -> None:
    """Make .gitml/ in the current git work tree."""
    from gitml.workspace import Workspace

    ws, created = Workspace.init()
    c: Ctx = ctx.obj
    if created:
        c.say(f"Initialized gitml workspace in {ws.gitml_dir}")
        _git_hint(c, [".gitml/config", ".gitml/.gitignore"])
    else:
        c.say(f"gitml workspace already initialized in {ws.gitml_dir}")
    if (ws.root / ".dvc").is_dir() and not (ws.root / "gitml.yaml").exists():
        c.say(
            "This is a DVC repository: run 'gitml migrate dvc' to convert its pipelines, "
            ".dvc files, dvc.lock and remotes (DVC need not be installed)."
        )


def _record(ctx: Ctx, results: list[Any], verb: str) -> None:
    from gitml.cli.add_cmd import record

    record(ctx.quiet, results, verb)


@app.command()
def add(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Files or directories to track.", metavar="PATH")
    ],
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Record data that breaks its declared schema.")
    ] = False,
) -> None:
    """Track files or directories: cache them, write .gitml pointers.

    The bytes go into the cache and each PATH gets a PATH.gitml pointer for git.
    """
    from gitml.cli.add_cmd import show_add

    c: Ctx = ctx.obj
    show_add(c.quiet, paths, not no_verify)


@app.command()
def commit(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Tracked outputs, stage outputs or stages (default: all).", metavar="[PATH]..."
        ),
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Record data that breaks its declared schema.")
    ] = False,
) -> None:
    """Record outputs that changed, without running anything.

    Re-records changed tracked outputs in their pointer files, and stage outputs already
    in the workspace in gitml.lock (the stage is not run).
    """
    from gitml.ops.add import commit as do_commit
    from gitml.pipeline.commit import commit_stages, stage_targets

    c: Ctx = ctx.obj
    ws = c.workspace()
    stages, rest = stage_targets(ws, paths or [])
    results = do_commit(ws, rest, verify=not no_verify) if rest or not paths else []
    _record(c, [r for r in results if r.changed], "Committed")
    staged = commit_stages(ws, stages if paths else None, verify=not no_verify)
    for key, changed in staged.stages:
        if changed:
            c.say(f"Committed stage '{key}'")
    _git_hint(c, staged.touched)
    if not any(r.changed for r in results) and not any(ch for _, ch in staged.stages):
        c.say("Nothing to commit: every tracked output matches its pointer.")


@app.command()
def status(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Limit to these outputs.", metavar="[PATH]...")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    remote: Annotated[
        bool,
        typer.Option(
            "-r",
            "--remote",
            help="List what a remote lacks instead: -r [NAME] (default: core.remote).",
        ),
    ] = False,
) -> None:
    """Show outputs and stages that differ from what is recorded.

    Lists tracked outputs whose workspace content differs from their pointer, and stale
    stages. With --remote, lists what a remote lacks instead.
    """
    if remote:
        from gitml.cli.remote_cmds import show_remote_status

        return show_remote_status(ctx, paths, as_json)
    from gitml.cli.status_cmd import show_status

    c: Ctx = ctx.obj
    code = show_status(c.quiet, paths, as_json)
    if code:
        raise typer.Exit(code)


@app.command()
def checkout(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Limit to these outputs, or to files inside a tracked directory.",
            metavar="[PATH]...",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("-f", "--force", help="Overwrite uncommitted changes.")
    ] = False,
) -> None:
    """Make the workspace match the pointer files."""
    from gitml.errors import GitmlError
    from gitml.ops.checkout import checkout as do_checkout

    c: Ctx = ctx.obj
    ws = c.workspace()
    result = do_checkout(ws, paths, force=force)
    for relpath in result.restored:
        c.say(f"Restored {ws.display(relpath)}")
    if result.failed:
        for relpath, reason in result.failed:
            typer.echo(f"gitml: {ws.display(relpath)}: {reason}", err=True)
        raise GitmlError(
            f"{len(result.failed)} output(s) not checked out: objects missing from the cache",
            hint="run 'gitml pull' to fetch them from a remote",
        )
    if not result.restored:
        c.say("Everything is up to date.")


@app.command("rm")
def remove(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Tracked output (or its .gitml file).")],
    outs: Annotated[
        bool, typer.Option("--outs", help="Also delete the data in the workspace.")
    ] = False,
) -> None:
    """Stop tracking an output; its data stays.

    Removes the output's pointer and .gitignore entry.
    """
    from gitml.ops.move import remove as do_remove

    c: Ctx = ctx.obj
    relpath = do_remove(c.workspace(), path, keep_data=not outs)
    c.say(f"Stopped tracking {relpath}")
    _git_hint(c, [f"{relpath}.gitml"])


@app.command("mv")
def move(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Tracked output.")],
    destination: Annotated[str, typer.Argument(help="New path.")],
) -> None:
    """Move a tracked output together with its pointer file."""
    from gitml.ops.move import move as do_move

    c: Ctx = ctx.obj
    src, dst = do_move(c.workspace(), source, destination)
    c.say(f"Moved {src} to {dst}")
    _git_hint(c, [f"{src}.gitml", f"{dst}.gitml"])


# Commands defined in other modules, by the names they register. A module is imported
# only when its command is run (or for help and completion), and only the command being
# run is built: `gitml status` runs in git hooks, and building all ~30 typer commands
# cost more than the status itself. tests/unit/test_cli_lazy.py checks this table.
LAZY_COMMANDS: dict[str, tuple[str, ...]] = {
    "gitml.cli.remote_cmds": ("remote", "push", "fetch", "pull"),
    "gitml.cli.history_cmds": ("diff", "ls", "gc", "get"),
    "gitml.cli.hook_cmds": ("install", "git-hook"),
    "gitml.cli.doctor_cmd": ("doctor",),
    "gitml.cli.migrate_cmd": ("migrate",),
    "gitml.cli.pipeline_cmds": ("stage", "params", "metrics", "repro", "dag"),
    "gitml.cli.check_cmd": ("check",),
    "gitml.cli.model_cmds": ("model",),
    "gitml.cli.lineage_cmds": ("lineage",),
    "gitml.cli.plots_cmds": ("plots",),
    "gitml.cli.report_cmd": ("report",),
    "gitml.cli.exp_cmds": ("exp",),
    "gitml.cli.verify_cmd": ("verify",),
    "gitml.cli.data_cmds": ("validate", "drift"),
}
_registered: set[str] = set()


def _register(module_name: str) -> None:
    if module_name not in _registered:
        import importlib

        importlib.import_module(module_name).register(app)
        _registered.add(module_name)


def register_all() -> typer.Typer:
    """The app with every command registered (docs, help, completion)."""
    for module_name in LAZY_COMMANDS:
        _register(module_name)
    return app


def command_names(typer_app: typer.Typer) -> list[str]:
    names = [
        c.name or typer.main.get_command_name(c.callback.__name__)  # type: ignore[union-attr]
        for c in typer_app.registered_commands
    ]
    return names + [g.name or "" for g in typer_app.registered_groups]


def build_command(typer_app: typer.Typer) -> Any:
    """The click command for `typer_app`, with git-style value names in its help."""
    from gitml.cli.help_style import git_style

    return git_style(typer.main.get_command(typer_app))


def _command_for(args: list[str]) -> Any:
    """The click command to run `args` with: only the named subcommand when it is known."""
    import copy

    word = next((a for a in args if not a.startswith("-")), None)
    module_name = next((m for m, names in LAZY_COMMANDS.items() if word in names), None)
    if module_name is not None:
        _register(module_name)
    elif "--help" in args or "-h" in args or (word is not None and word not in command_names(app)):
        return build_command(register_all())
    elif word is None:
        if "--version" not in args:
            return build_command(register_all())
        word = ""  # the eager --version callback exits before any command is looked up
    view = copy.copy(app)
    view.registered_commands = [
        c
        for c in app.registered_commands
        if (c.name or typer.main.get_command_name(c.callback.__name__)) == word  # type: ignore[union-attr]
    ]
    view.registered_groups = [g for g in app.registered_groups if g.name == word]
    return build_command(view)


_hoist_global_flags = hoist_global_flags
_GLOBAL_FLAGS = GLOBAL_FLAGS


def _usage_error_class() -> tuple[type[BaseException], ...]:
    classes: list[type[BaseException]] = []
    try:
        from typer._click.exceptions import ClickException as Vendored

        classes.append(Vendored)
    except ImportError:  # typer < 0.26 uses click itself
        pass
    try:
        import click
    except ImportError:  # not a gitml dependency: typer 0.26-0.28 vendor it
        pass
    else:
        classes.append(click.ClickException)
    return tuple(classes)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the one place exceptions become exit codes and messages."""
    from gitml.errors import GitmlError

    args = _hoist_global_flags(sys.argv[1:] if argv is None else list(argv))
    verbose = "-v" in args or "--verbose" in args
    command = _command_for(args)
    try:
        result = command.main(args=args, prog_name="gitml", standalone_mode=False)
        if result == 130:  # typer turns Ctrl-C into Exit(130) and returns it here
            typer.echo("gitml: interrupted", err=True)
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 130
    except (GitmlError, KeyboardInterrupt, OSError) as exc:
        code = report_failure(exc, verbose)
        assert code is not None
        return code
    except Exception as exc:
        if isinstance(exc, _usage_error_class()):
            exc.show()  # type: ignore[attr-defined]
            return int(getattr(exc, "exit_code", 2))
        raise


def run() -> None:
    sys.exit(main())
