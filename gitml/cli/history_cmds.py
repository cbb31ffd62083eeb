"""`gitml diff`, `ls`, `gc` and `get`: history and reuse. Thin: parse, call a use case in
gitml.ops, print."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gitml.cli.output import human_size as _human
from gitml.cli.output import plural as _plural
from gitml.cli.output import print_json as _print_json
from gitml.errors import GitmlError, UsageError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def register(app: typer.Typer) -> None:
    app.command()(diff)
    app.command("ls")(ls)
    app.command()(gc)
    app.command()(get)


def _say(ctx: typer.Context, message: str) -> None:
    if not ctx.obj.quiet:
        typer.echo(message)


def _warn(message: str) -> None:
    typer.echo(f"gitml: warning: {message}", err=True)


# diff ------------------------------------------------------------------------------------


def diff(
    ctx: typer.Context,
    rev_a: Annotated[
        str, typer.Argument(help="Old side (default HEAD).", metavar="[REV_A]")
    ] = "HEAD",
    rev_b: Annotated[
        str | None,
        typer.Argument(help="New side (default: the work tree).", metavar="[REV_B]"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show outputs changed between two revisions or the work tree.

    Lists tracked outputs added, deleted, modified or renamed, down to files inside
    tracked directories.
    """
    from gitml.ops.diff import diff as do_diff

    result = do_diff(ctx.obj.workspace(), rev_a, rev_b)
    for path, why in result.unknown:
        _warn(f"cannot compare the files inside {path}: {why}")
    if as_json:
        _print_json(result.to_json())
        return
    if not result.changes:
        _say(ctx, f"No changes between {result.a} and {result.b}.")
        return
    for change in result.changes:
        if change.status == "renamed":
            typer.echo(f"{'Renamed:':<10}{change.old_path} -> {change.path}")
        else:
            typer.echo(f"{change.status.capitalize() + ':':<10}{change.path}")
    counts = {s: len(result.of(s)) for s in ("added", "deleted", "modified", "renamed")}
    _say(ctx, "\n" + ", ".join(f"{n} {s}" for s, n in counts.items()))


# ls --------------------------------------------------------------------------------------


def ls(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(help="An output, a folder, or a path inside a tracked dir.")
    ] = None,
    rev: Annotated[
        str | None, typer.Option("--rev", help="Git revision (default: the work tree).")
    ] = None,
    recursive: Annotated[
        bool, typer.Option("-R", "--recursive", help="Also list files inside directories.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List tracked outputs and their sizes.

    At a revision, or in the work tree.
    """
    from gitml.ops.ls import ls as do_ls
    from gitml.repo import DataRepo

    ws = ctx.obj.workspace()
    relpath = ws.relpath(path) if path not in (None, "", ".") else None
    with DataRepo.for_workspace(ws) as repo:
        snapshot = repo.snapshot(rev, repo.source(store_fetched=True))
        entries = do_ls(snapshot, relpath, recursive=recursive)
    if as_json:
        _print_json({"rev": snapshot.label, "entries": [e.to_json() for e in entries]})
        return
    for e in entries:
        if e.kind == "dir":
            typer.echo(f"{_human(e.size):>10}  {e.path}/  ({_plural(e.nfiles or 0, 'file')})")
        else:
            typer.echo(f"{_human(e.size):>10}  {e.path}")


# gc --------------------------------------------------------------------------------------


def gc(
    ctx: typer.Context,
    workspace: Annotated[
        bool,
        typer.Option("-w", "--workspace", help="Keep only what the work tree's pointers use."),
    ] = False,
    all_commits: Annotated[
        bool,
        typer.Option("-A", "--all-commits", help="Keep what any commit (and reflog) uses."),
    ] = False,
    dry: Annotated[
        bool, typer.Option("--dry", help="Show what would be removed; remove nothing.")
    ] = False,
    force: Annotated[bool, typer.Option("-f", "--force", help="Do not ask.")] = False,
    remote: Annotated[
        str | None,
        typer.Option("-r", "--remote", help="Also delete unreferenced objects on this remote."),
    ] = None,
    yes_delete_remote: Annotated[
        bool,
        typer.Option(
            "--yes-delete-remote",
            help="Confirm deleting from the remote without asking (-f covers the cache only).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete cache objects nothing references. By default keeps what any branch, tag,
    the stash, the git index, the work tree and the run-cache use. Asks first, or -f."""
    from gitml.ops import gc as ops_gc

    if workspace and all_commits:
        raise UsageError("--workspace and --all-commits cannot be combined")
    mode = "workspace" if workspace else "all-commits" if all_commits else "default"
    ws = ctx.obj.workspace()
    with ws.locked():
        plan = ops_gc.plan(ws, mode, remote)
        _report_plan(ctx, plan, dry=dry, as_json=as_json)
        if dry:
            if as_json:
                _print_json(plan.to_json(dry=True))
            return
        _confirm_local(plan, force=force)
        store = None
        if remote is not None and plan.remote_remove:
            _confirm_remote(plan, yes=yes_delete_remote)
            from gitml.repo import open_store

            store = open_store(ws, remote, None)
        done = ops_gc.execute(ws, plan, store)
    if as_json:
        _print_json({**plan.to_json(dry=False), "bytes": done.bytes})
        return
    _say(ctx, f"Removed {_plural(done.removed, 'object')} ({_human(done.bytes)}) from the cache.")
    if done.tmp_removed:
        _say(ctx, f"Removed {_plural(done.tmp_removed, 'stale temporary file')}.")
    if done.markers_removed:
        _say(
            ctx, f"Dropped {_plural(done.markers_removed, 'run-cache entry', 'run-cache entries')}."
        )
    if done.profiles_removed:
        _say(ctx, f"Removed {_plural(done.profiles_removed, 'stored data profile')}.")
    if remote is not None:
        _say(ctx, f"Removed {_plural(done.remote_removed, 'object')} from remote '{remote}'.")


def _report_plan(ctx: typer.Context, plan: Any, *, dry: bool, as_json: bool) -> None:
    for where, why in plan.unknown:
        _warn(f"cannot list the files of {where}: {why}; files only it uses are not kept")
    for message in plan.skipped[:20]:
        _warn(f"skipped malformed pointer: {message}")
    if as_json:
        return
    verb = "Would remove" if dry else "Will remove"
    if dry:
        for oid, size in plan.remove:
            _say(ctx, f"{_human(size):>10}  {oid}")
    _say(
        ctx,
        f"{verb} {len(plan.remove)} of {len(plan.remove) + plan.kept} cache objects "
        f"({_human(plan.bytes)}); keeping {plan.kept} ({plan.mode}).",
    )
    if plan.stale_tmp:
        _say(ctx, f"{verb} {len(plan.stale_tmp)} temporary files older than a day.")
    if plan.drop_markers:
        _say(ctx, f"{verb} {len(plan.drop_markers)} run-cache entries.")
    if plan.profiles_remove:
        _say(
            ctx,
            f"{verb} {len(plan.profiles_remove)} stored data profiles whose data is not kept; "
            f"keeping {plan.profiles_kept}.",
        )
    if plan.remote is not None:
        if dry:
            for oid in plan.remote_remove:
                _say(ctx, f"{'remote':>10}  {oid}")
        _say(
            ctx,
            f"{verb} {_plural(len(plan.remote_remove), 'object')} from remote '{plan.remote}'; "
            f"keeping {plan.remote_kept}.",
        )


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _confirm_local(plan: Any, *, force: bool) -> None:
    if force or not (plan.remove or plan.stale_tmp or plan.drop_markers or plan.profiles_remove):
        return
    what = f"{_plural(len(plan.remove), 'cache object')} ({_human(plan.bytes)})"
    if not _interactive():
        raise GitmlError(
            f"gc would delete {what}; nothing deleted: not a terminal, so confirm with -f",
            hint="see the list first with 'gitml gc --dry'",
        )
    if not typer.confirm(f"Delete {what}?", default=False, err=True):
        raise GitmlError("gc cancelled; nothing deleted")


def _confirm_remote(plan: Any, *, yes: bool) -> None:
    if yes:
        return
    what = f"{_plural(len(plan.remote_remove), 'object')} from remote '{plan.remote}'"
    if not _interactive():
        raise GitmlError(
            f"gc would delete {what}; nothing deleted: confirm with --yes-delete-remote",
            hint="deleting from a remote may lose the only copy of data; -f is not enough",
        )
    typed = typer.prompt(
        f"Delete {what}? This cannot be undone. Type the remote's name to confirm",
        default="",
        show_default=False,
        err=True,
    )
    if typed != plan.remote:
        raise GitmlError("gc cancelled; nothing deleted")


# get -------------------------------------------------------------------------------------


def get(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A gitml repository: local path or git URL.")],
    path: Annotated[str, typer.Argument(help="Tracked output (or file in one), repo-relative.")],
    rev: Annotated[
        str | None, typer.Option("--rev", help="Branch, tag or commit (default HEAD).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("-o", "--out", help="Where to write (default: its name).")
    ] = None,
    remote: Annotated[
        str | None, typer.Option("-r", "--remote", help="That repository's remote to use.")
    ] = None,
    force: Annotated[bool, typer.Option("-f", "--force", help="Replace OUT if it exists.")] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Parallel downloads.")] = 4,
    as_json: JsonOpt = False,
) -> None:
    """Download a tracked output from another gitml repository.

    The repository is not cloned.
    """
    from gitml.ops.get import get as do_get
    from gitml.ui import make_progress

    result = do_get(
        url,
        path,
        rev=rev,
        out=out,
        remote=remote,
        force=force,
        jobs=jobs,
        progress=make_progress(ctx.obj.quiet or as_json),
    )
    if as_json:
        _print_json(result.to_json())
        return
    what = f"{result.files} files, " if result.files != 1 else ""
    _say(ctx, f"Downloaded {result.path} ({what}{_human(result.bytes)}) to {result.out}")
