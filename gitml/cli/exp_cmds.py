"""`gitml exp ...`: run, show, diff, apply, branch, rm, push and pull experiments.

Registered on the main app by `register(app)`; use cases are imported inside each command.
"""

from __future__ import annotations

import sys
import threading
from typing import Annotated, Any

import typer

from gitml.cli.output import print_json as _print_json

exp_app = typer.Typer(
    help="Run, compare and keep parameter variations as experiments.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AllOpt = Annotated[bool, typer.Option("-A", "--all-commits", help="Of every baseline commit.")]


def _printer(quiet: bool, stream: Any) -> tuple[Any, Any]:
    lock = threading.Lock()

    def emit(text: str) -> None:
        if not quiet:
            with lock:
                stream.write(text + "\n")
                stream.flush()

    def output(stage: str, line: bytes) -> None:
        if quiet:
            return
        if not line.endswith(b"\n"):
            line += b"\n"
        with lock:
            stream.flush()
            stream.buffer.write(line)
            stream.buffer.flush()

    return emit, output


@exp_app.command("run")
def exp_run(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None, typer.Argument(help="Stages (default: all) and what they need.")
    ] = None,
    set_params: Annotated[
        list[str] | None,
        typer.Option(
            "-S",
            "--set-param",
            help="[FILE:]KEY=VALUE (YAML-typed); A,B for a grid; +KEY=VALUE adds a key.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("-n", "--name", help="Experiment name.")] = None,
    temp: Annotated[
        bool, typer.Option("--temp", help="Run in a temporary worktree; the workspace stays.")
    ] = False,
    queue: Annotated[bool, typer.Option("--queue", help="Only queue the experiment(s).")] = False,
    run_all: Annotated[bool, typer.Option("--run-all", help="Run the queued experiments.")] = False,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", min=1, help="With --run-all: experiments at once.")
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Run the pipeline with params overridden, as an experiment."""
    from gitml.errors import StageFailedError, UsageError
    from gitml.exp import overrides
    from gitml.exp.launch import launch

    c = ctx.obj
    parsed = overrides.parse_overrides(set_params or [])
    runs = overrides.grid(parsed)
    if name is not None and len(runs) > 1:
        raise UsageError("-n names one experiment; a grid of several gets generated names")
    if run_all and (set_params or queue or temp or name):
        raise UsageError("--run-all runs the queue: give no -S, -n, --temp or --queue with it")
    ws = c.workspace()
    stream = sys.stderr if as_json else sys.stdout
    emit, output = _printer(c.quiet, stream)
    results = launch(
        ws,
        runs,
        name=name,
        targets=tuple(targets or ()),
        temp=temp,
        queue=queue,
        run_all=run_all,
        jobs=jobs,
        emit=emit,
        output=output,
    )
    if as_json:
        _print_json({"experiments": [r.to_json() for r in results]})
    else:
        for r in results:
            verb = {"queued": "Queued", "success": "Ran", "failed": "Failed"}.get(r.state, r.state)
            c.say(
                f"{verb} experiment '{r.name}' ({r.commit[:7]})"
                + (f": {r.message}" if r.message else "")
            )
        if results and any(r.state == "success" for r in results) and not temp and not run_all:
            c.say("To compare: gitml exp show; to keep one: gitml exp apply NAME")
    failed = [r for r in results if r.state == "failed"]
    if failed:
        if len(failed) == 1:
            raise StageFailedError(f"experiment '{failed[0].name}' failed: {failed[0].message}")
        raise StageFailedError(
            f"{len(failed)} of {len(results)} experiments failed: "
            + "; ".join(f"{r.name}: {r.message}" for r in failed)
        )


@exp_app.command("show")
def exp_show(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (every param).")] = False,
    md: Annotated[bool, typer.Option("--md", help="Print a Markdown table.")] = False,
    sort_by: Annotated[
        str | None, typer.Option("--sort-by", help="[FILE:]KEY of a param or metric.")
    ] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort descending.")] = False,
    all_commits: AllOpt = False,
) -> None:
    """List the experiments of the current baseline commit.

    One row per experiment (-A: of every baseline commit), and the baseline.
    """
    from gitml.cli.exp_show_cmd import collect, print_doc

    doc = collect(ctx.obj.quiet, all_commits, sort_by, desc)
    form = "--json" if as_json else "--csv" if as_csv else "--md" if md else None
    if form is not None:
        print_doc(doc, form)
    else:
        from rich.console import Console

        from gitml.exp.table import render_rich

        Console(soft_wrap=False).print(render_rich(doc))


@exp_app.command("diff")
def exp_diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Experiment or revision.")],
    b: Annotated[
        str | None, typer.Argument(help="Experiment or revision (default: A's baseline).")
    ] = None,
    as_json: JsonOpt = False,
    md: Annotated[bool, typer.Option("--md", help="Print a Markdown table.")] = False,
) -> None:
    """Compare params and metrics of two experiments or revisions.

    Shows the params and metrics that differ.
    """
    from gitml.exp import show
    from gitml.pipeline.metrics import diff_json, show_change, show_value, table

    ws = ctx.obj.workspace()
    label_b, label_a, params, metrics = show.diff(ws, a, b)
    if as_json:
        _print_json(
            {
                "old": label_b,
                "new": label_a,
                "params": diff_json(params),
                "metrics": diff_json(metrics),
            }
        )
        return
    if not params and not metrics:
        typer.echo("No changes in params or metrics.")
        return
    rows = [
        [kind, c.file, c.key, show_value(c.old), show_value(c.new), show_change(c)]
        for kind, changes in (("param", params), ("metric", metrics))
        for c in changes
    ]
    typer.echo(table(["Kind", "Path", "Key", label_b, label_a, "Change"], rows, markdown=md))


@exp_app.command("apply")
def exp_apply(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    force: Annotated[
        bool, typer.Option("-f", "--force", help="Overwrite work that is saved nowhere.")
    ] = False,
) -> None:
    """Make the workspace's params and outputs the experiment's.

    Params, gitml.lock, metrics and outputs.
    """
    from gitml.exp.apply import apply

    ws = ctx.obj.workspace()
    changed = apply(ws, name, force=force)
    ctx.obj.say(f"Applied experiment '{name}' ({len(changed)} file(s) changed); nothing committed")


@exp_app.command("branch")
def exp_branch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Experiment name.")],
    branch: Annotated[str, typer.Argument(help="New git branch.")],
) -> None:
    """Make a git branch whose tip holds the experiment."""
    from gitml.exp.apply import branch as make_branch

    commit = make_branch(ctx.obj.workspace().root, name, branch)
    ctx.obj.say(f"Created branch '{branch}' at {commit[:7]} (experiment '{name}')")


@exp_app.command("rm")
def exp_rm(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Experiment names.")] = None,
    all_head: Annotated[
        bool, typer.Option("--all", help="Every experiment of the current baseline.")
    ] = False,
    all_commits: AllOpt = False,
    queued: Annotated[bool, typer.Option("--queued", help="Queued experiments only.")] = False,
) -> None:
    """Delete experiments.

    Removes their refs; gc then frees what only they used.
    """
    from gitml.errors import UsageError
    from gitml.exp.apply import remove

    if not names and not (all_head or all_commits or queued):
        raise UsageError("name experiments, or use --all, -A or --queued")
    if names and (all_head or all_commits or queued):
        raise UsageError("give names or --all/-A/--queued, not both")
    removed = remove(
        ctx.obj.workspace().root,
        names or [],
        all_of_head=all_head,
        all_baselines=all_commits,
        queued=queued,
    )
    ctx.obj.say(
        f"Removed {len(removed)} experiment(s)"
        + (": " + ", ".join(e.name for e in removed) if removed else "")
    )


def _sync_report(ctx: typer.Context, verb: str, result: Any, as_json: bool) -> None:
    from gitml.errors import GitmlError

    if as_json:
        _print_json(
            {
                "experiments": result.experiments,
                "objects": result.objects,
                "failed": [{"path": p, "reason": r} for p, r in result.failed],
            }
        )
    else:
        ctx.obj.say(f"{verb} {len(result.experiments)} experiment(s), {result.objects} object(s)")
    if result.failed:
        path, reason = result.failed[0]
        raise GitmlError(f"{len(result.failed)} object(s) not transferred: {path}: {reason}")


GitRemoteArg = Annotated[str, typer.Argument(help="git remote (name or URL).")]
NamesArg = Annotated[
    list[str] | None, typer.Argument(help="Experiments (default: of the current baseline).")
]
GitmlRemoteOpt = Annotated[
    str | None, typer.Option("-r", "--remote", help="gitml remote for outputs (default one).")
]


@exp_app.command("push")
def exp_push(
    ctx: typer.Context,
    git_remote: GitRemoteArg,
    names: NamesArg = None,
    all_commits: AllOpt = False,
    remote: GitmlRemoteOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Share experiments: refs to git, outputs to the gitml remote."""
    from gitml.exp.sync import push

    result = push(
        ctx.obj.workspace(), git_remote, names or [], all_baselines=all_commits, gitml_remote=remote
    )
    _sync_report(ctx, "Pushed", result, as_json)


@exp_app.command("pull")
def exp_pull(
    ctx: typer.Context,
    git_remote: GitRemoteArg,
    names: NamesArg = None,
    all_commits: AllOpt = False,
    remote: GitmlRemoteOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch experiments: refs from git, outputs from the gitml remote."""
    from gitml.exp.sync import pull

    result = pull(
        ctx.obj.workspace(), git_remote, names or [], all_baselines=all_commits, gitml_remote=remote
    )
    _sync_report(ctx, "Pulled", result, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(exp_app, name="exp")
