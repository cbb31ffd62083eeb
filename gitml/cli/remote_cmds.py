"""`gitml remote ...`, `push`, `fetch`, `pull`, and the `status --remote` report.

Thin: parse, call a use case in gitml.ops.sync, print. Heavy modules (fsspec, s3fs) are
imported only by the use cases, so `gitml remote list` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gitml.cli.output import human_size as _human
from gitml.cli.output import plural as _plural
from gitml.cli.output import print_json as _print_json
from gitml.errors import GitmlError

remote_app = typer.Typer(
    help="Manage remotes: where push, fetch and pull move data.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

RemoteOpt = Annotated[
    str | None, typer.Option("-r", "--remote", help="Remote name (default: core.remote).")
]
JobsOpt = Annotated[
    int | None,
    typer.Option("-j", "--jobs", min=1, help="Parallel transfers (default 16; 4 for folders)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PathsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Limit to these outputs, or files inside a tracked directory."),
]
NoRunCacheOpt = Annotated[
    bool,
    typer.Option("--no-run-cache", help="Leave run-cache entries alone (only output objects)."),
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Write to .gitml/config.local (not tracked by git).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
    app.command()(push)
    app.command()(fetch)
    app.command()(pull)


def _runs(n: int) -> str:
    return f"{n} run-cache {'entry' if n == 1 else 'entries'}"


def _workspace(ctx: typer.Context) -> Any:
    return ctx.obj.workspace()


def _say(ctx: typer.Context, message: str) -> None:
    if not ctx.obj.quiet:
        typer.echo(message)


def _fail(problems: list[tuple[str, str]], summary: str, hint: str | None = None) -> None:
    """Raise one error; when there are several problems, list them on stderr first."""
    if not problems:
        return
    if len(problems) == 1:
        raise GitmlError(problems[0][1], hint=hint)
    for _path, reason in problems[:50]:
        typer.echo(f"gitml: {reason}", err=True)
    if len(problems) > 50:
        typer.echo(f"gitml: ... and {len(problems) - 50} more", err=True)
    raise GitmlError(summary, hint=hint)


# remote add / list / remove / default / modify ------------------------------------------------


def _where(local: bool) -> str:
    return ".gitml/config.local" if local else ".gitml/config"


@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Remote name.")],
    url: Annotated[str, typer.Argument(help="Folder path or fsspec URL (s3://bucket/path, ...).")],
    default: Annotated[
        bool, typer.Option("-d", "--default", help="Make it the default remote.")
    ] = False,
    local: LocalOpt = False,
) -> None:
    """Add a remote."""
    from gitml.ops.remote_config import add_remote

    stored = add_remote(_workspace(ctx), name, url, default=default, local=local)
    suffix = " as the default" if default else ""
    _say(ctx, f"Added remote '{name}' ({stored}) to {_where(local)}{suffix}")


@remote_app.command("list")
def remote_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List remotes (credentials are masked)."""
    from gitml.remote import config as remote_config

    ws = _workspace(ctx)
    remotes = remote_config.all_remotes(ws.config)

    def shown(options: dict[str, Any]) -> dict[str, Any]:
        return {k: "***" if remote_config.is_credential_key(k) else v for k, v in options.items()}

    if as_json:
        _print_json(
            {
                "default": remote_config.default_name(ws.config),
                "remotes": [
                    {
                        "name": r.name,
                        "url": r.url,
                        "default": r.is_default,
                        "options": shown(r.options),
                    }
                    for r in remotes
                ],
            }
        )
        return
    if not remotes:
        _say(ctx, "No remotes. Add one with 'gitml remote add -d NAME URL'.")
        return
    for r in remotes:
        mark = " (default)" if r.is_default else ""
        typer.echo(f"{r.name}\t{r.url}{mark}")
        for key, value in shown(r.options).items():
            typer.echo(f"\t{key} = {value}")


@remote_app.command("remove")
def remote_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a remote from both config files.

    Its data stays where it is.
    """
    from gitml.ops.remote_config import remove_remote

    remove_remote(_workspace(ctx), name)
    _say(ctx, f"Removed remote '{name}'")


@remote_app.command("default")
def remote_default(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Remote to make the default.")] = None,
    local: LocalOpt = False,
    unset: Annotated[bool, typer.Option("--unset", help="Clear the default.")] = False,
) -> None:
    """Show or set the default remote."""
    from gitml.errors import RemoteNotConfiguredError
    from gitml.ops.remote_config import set_default_remote
    from gitml.remote import config as remote_config

    ws = _workspace(ctx)
    if name is None and not unset:
        current = remote_config.default_name(ws.config)
        if current is None:
            raise RemoteNotConfiguredError("no default remote")
        typer.echo(current)
        return
    set_default_remote(ws, name, local=local)
    _say(ctx, "Cleared the default remote" if name is None else f"Default remote: '{name}'")


@remote_app.command("modify")
def remote_modify(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    key: Annotated[
        str,
        typer.Argument(help="url, endpoint_url, profile, region, or any fsspec storage option."),
    ],
    value: Annotated[
        str | None, typer.Argument(help="New value (true/false and integers are typed).")
    ] = None,
    local: LocalOpt = False,
    unset: Annotated[bool, typer.Option("--unset", help="Remove the option.")] = False,
) -> None:
    """Set or unset one option of a remote."""
    from gitml.ops.remote_config import modify_remote
    from gitml.remote.config import is_credential_key

    parsed = modify_remote(_workspace(ctx), name, key, value, local=local, unset=unset)
    if unset:
        _say(ctx, f"Unset {key} of remote '{name}' in {_where(local)}")
    else:
        shown = "***" if is_credential_key(key) else parsed
        _say(ctx, f"Set {key} = {shown} for remote '{name}' in {_where(local)}")


# push / fetch / pull ----------------------------------------------------------------------------


def push(
    ctx: typer.Context,
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    jobs: JobsOpt = None,
    rev: Annotated[
        list[str] | None,
        typer.Option("--rev", help="Push what this git revision needs (repeatable)."),
    ] = None,
    no_run_cache: NoRunCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Upload the objects and run-cache entries a remote lacks.

    Uploads cache objects of tracked outputs and stage outs that the remote lacks, and
    (unless PATHs are given) run-cache entries.
    """
    from gitml.ops.push import push as do_push

    result = do_push(
        _workspace(ctx), remote, paths, jobs=jobs, revs=rev or [], run_cache=not no_run_cache
    )
    if as_json:
        _print_json(result.to_json())
    elif result.transferred:
        _say(
            ctx,
            f"Pushed {_plural(len(result.transferred), 'object')} "
            f"({_human(result.bytes)}) to '{result.remote}'",
        )
    elif result.ok and not (result.runs and result.runs.transferred):
        _say(ctx, f"Everything is already on '{result.remote}'")
    if not as_json and result.runs and result.runs.transferred:
        runs = result.runs
        size = sum(i.size for i in runs.objects)
        _say(
            ctx,
            f"Pushed {_runs(runs.transferred)}"
            f" ({_plural(len(runs.objects), 'object')}, {_human(size)})",
        )
    missing = [(p, f"{p}: not in the local cache, so not pushed") for p in result.not_in_cache]
    _fail(
        result.failed + missing,
        f"{len(result.failed) + len(missing)} object(s) could not be pushed to '{result.remote}'",
        hint="objects missing from the cache must come from another remote or be added again"
        if missing
        else None,
    )


def fetch(
    ctx: typer.Context,
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    jobs: JobsOpt = None,
    rev: Annotated[
        list[str] | None,
        typer.Option("--rev", help="Fetch what this git revision needs (repeatable)."),
    ] = None,
    all_branches: Annotated[
        bool, typer.Option("-a", "--all-branches", help="Also every local branch tip.")
    ] = False,
    all_tags: Annotated[bool, typer.Option("-T", "--all-tags", help="Also every tag.")] = False,
    no_run_cache: NoRunCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Download the objects outputs need into the cache.

    The workspace is untouched. Unless PATHs are given, the remote's run-cache entries
    are fetched too.
    """
    from gitml.ops.pull import fetch as do_fetch

    result = do_fetch(
        _workspace(ctx),
        remote,
        paths,
        revs=rev or [],
        all_branches=all_branches,
        all_tags=all_tags,
        jobs=jobs,
        run_cache=not no_run_cache,
    )
    if as_json:
        _print_json(result.to_json())
    else:
        _report_fetch(ctx, result)
    _fail(
        result.failed,
        f"{len(result.failed)} object(s) could not be fetched from '{result.remote}'",
    )


def _report_fetch(ctx: typer.Context, result: Any) -> None:
    if result.transferred:
        _say(
            ctx,
            f"Fetched {_plural(len(result.transferred), 'object')} "
            f"({_human(result.bytes)}) from '{result.remote}'",
        )
    elif not result.failed and not (result.runs and result.runs.transferred):
        _say(ctx, "Everything is already in the cache")
    if result.runs and result.runs.transferred:
        _say(ctx, f"Fetched {_runs(result.runs.transferred)} from '{result.remote}'")


def pull(
    ctx: typer.Context,
    paths: PathsArg = None,
    remote: RemoteOpt = None,
    jobs: JobsOpt = None,
    force: Annotated[
        bool, typer.Option("-f", "--force", help="Overwrite uncommitted changes.")
    ] = False,
    no_run_cache: NoRunCacheOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fetch, then check out the workspace.

    Downloads what is missing, then makes the workspace match the pointer files and
    gitml.lock.
    """
    from gitml.ops.pull import pull as do_pull

    ws = _workspace(ctx)
    result = do_pull(ws, remote, paths, jobs=jobs, force=force, run_cache=not no_run_cache)
    if as_json:
        _print_json(result.to_json())
    else:
        _report_fetch(ctx, result.fetch)
        for relpath in result.restored:
            _say(ctx, f"Restored {ws.display(relpath)}")
    problems = result.fetch.failed + [
        (p, f"{ws.display(p)}: not checked out ({reason})")
        for p, reason in result.failed
        if p not in {f for f, _ in result.fetch.failed}
    ]
    _fail(problems, f"{len(problems)} problem(s) while pulling from '{result.fetch.remote}'")


# status --remote ---------------------------------------------------------------------------------


def show_remote_status(ctx: typer.Context, paths: list[str] | None, as_json: bool) -> None:
    """`gitml status -r/--remote [NAME] [PATH]...`: what the remote lacks."""
    from gitml.errors import PathError
    from gitml.ops.remote_status import remote_status
    from gitml.remote import config as remote_config

    ws = _workspace(ctx)
    remote = None
    names: set[str] = set()
    if paths:  # NAME, the optional value of -r, arrives as the first word
        names = {r.name for r in remote_config.all_remotes(ws.config)}
        if paths[0] in names and not (Path.cwd() / paths[0]).exists():
            remote, paths = paths[0], paths[1:]
    try:
        result = remote_status(ws, remote, paths or None)
    except PathError as exc:
        if remote is None and paths and paths[0] not in names:  # `-r TYPO` reads as a path
            known = ", ".join(sorted(names)) or "none"
            raise PathError(f"{exc.message}, nor a configured remote (known: {known})") from None
        raise
    if as_json:
        _print_json(result.to_json())
        return
    if not result.outputs and not result.runs_missing:
        _say(ctx, f"Everything is on '{result.remote}'")
        return
    if ctx.obj.quiet:
        # As `status -q` and `dvc status -c -q`: nothing printed, exit 1 when something lacks.
        raise typer.Exit(1)
    typer.echo(f"Missing on '{result.remote}':")
    for o in result.outputs:
        extra = f"; {o.not_in_cache} not in the local cache either" if o.not_in_cache else ""
        typer.echo(
            f"\t{ws.display(o.path)} ({_plural(o.missing, 'object')}, "
            f"{_human(o.missing_bytes)}{extra})"
        )
    if result.runs_missing:
        typer.echo(f"\t{_runs(result.runs_missing)} (gitml push sends them)")
