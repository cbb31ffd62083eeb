"""Pipeline commands: `stage add|list`, `repro`, `dag`, `params diff`, `metrics show|diff`.

Registered on the main app by `register(app)`; use cases are imported inside each command.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from gitml.cli.output import print_json as _print_json

stage_app = typer.Typer(help="Add or list pipeline stages.", no_args_is_help=True)
params_app = typer.Typer(help="Compare parameters between revisions.", no_args_is_help=True)
metrics_app = typer.Typer(help="Show and compare metrics.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
MdOpt = Annotated[bool, typer.Option("--md", help="Print a Markdown table.")]


def _git_hint(ctx: Any, files: list[str]) -> None:
    if files and not ctx.quiet:
        typer.echo("\nTo track the changes with git, run:\n\n    git add " + " ".join(files) + "\n")


def _workspace(ctx: typer.Context) -> Any:
    return ctx.obj.workspace()


# stage ----------------------------------------------------------------------------


@stage_app.command(
    "add", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True}
)
def stage_add(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="The stage's command.")],
    name: Annotated[str, typer.Option("-n", "--name", help="Stage name.")],
    deps: Annotated[list[str] | None, typer.Option("-d", "--deps", help="Dependency.")] = None,
    params: Annotated[
        list[str] | None, typer.Option("-p", "--params", help="Params: KEY[,KEY] or FILE:KEYS.")
    ] = None,
    outs: Annotated[list[str] | None, typer.Option("-o", "--outs", help="Output.")] = None,
    outs_no_cache: Annotated[
        list[str] | None, typer.Option("-O", "--outs-no-cache", help="Output kept in git.")
    ] = None,
    metrics: Annotated[list[str] | None, typer.Option("-m", "--metrics", help="Metrics.")] = None,
    metrics_no_cache: Annotated[
        list[str] | None, typer.Option("-M", "--metrics-no-cache", help="Metrics kept in git.")
    ] = None,
    wdir: Annotated[str | None, typer.Option("-w", "--wdir", help="Working directory.")] = None,
    desc: Annotated[str | None, typer.Option("--desc", help="Description.")] = None,
    force: Annotated[bool, typer.Option("-f", "--force", help="Overwrite the stage.")] = False,
) -> None:
    """Add a stage to gitml.yaml (comments and formatting are kept).

    The gitml.yaml of the current directory, as `dvc stage add` writes dvc.yaml there:
    paths are relative to it, and the stage is addressed as DIR/gitml.yaml:NAME.
    """
    import shlex

    from gitml.pipeline import PIPELINE_FILE
    from gitml.pipeline.stage_edit import NewStage, add_stage

    ws = _workspace(ctx)
    here = Path.cwd().resolve()
    file = PIPELINE_FILE if here == ws.root else f"{ws.relpath('.')}/{PIPELINE_FILE}"
    cmd = command[0] if len(command) == 1 else shlex.join(command)
    stage = NewStage(
        name=name, cmd=cmd, deps=deps or [], params=params or [], outs=outs or [],
        outs_no_cache=outs_no_cache or [], metrics=metrics or [],
        metrics_no_cache=metrics_no_cache or [], wdir=wdir, desc=desc,
    )  # fmt: skip
    with ws.locked():
        add_stage(ws.root, stage, file=file, force=force)
    ctx.obj.say(f"Added stage '{name}' to gitml.yaml")
    _git_hint(ctx.obj, ["gitml.yaml"])


@stage_app.command("list")
def stage_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the stages of gitml.yaml."""
    from gitml.pipeline.repro_plan import load

    pipeline, _ = load(_workspace(ctx))
    rows: list[dict[str, Any]] = []
    for name in pipeline.stages:
        s = pipeline.stages[name]
        rows.append(
            {
                "name": name,
                "cmd": s.cmd_value,
                "wdir": s.wdir or ".",
                "deps": list(s.deps),
                "outs": [o.path for o in s.outs],
                "desc": s.desc,
                "frozen": s.frozen,
            }
        )
    if as_json:
        _print_json({"stages": rows})
        return
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        about = row["desc"] or ("Outputs " + ", ".join(row["outs"]) if row["outs"] else "")
        typer.echo(f"{row['name']:<{width}}  {about}".rstrip())


# repro ----------------------------------------------------------------------------


def _summary(results: list[Any]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    labels = [
        ("ran", "ran"), ("restored", "restored from the cache"),
        ("unchanged", "up to date"), ("frozen", "frozen"), ("failed", "failed"),
        ("skipped", "not run"),
    ]  # fmt: skip
    return ", ".join(f"{counts[k]} {label}" for k, label in labels if counts.get(k))


def repro(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None, typer.Argument(help="Stages (default: all) and what they need.")
    ] = None,
    force: Annotated[
        bool, typer.Option("-f", "--force", help="Run even if up to date; skip the run-cache.")
    ] = False,
    dry: Annotated[bool, typer.Option("--dry", help="Say what would run and why.")] = False,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Run the targets and what depends on them.")
    ] = False,
    keep_going: Annotated[
        bool, typer.Option("-k", "--keep-going", help="After a failure, run what does not need it.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", min=1, help="Run up to N independent stages at once.")
    ] = 1,
    no_run_cache: Annotated[
        bool, typer.Option("--no-run-cache", help="Run commands even if the run-cache has them.")
    ] = False,
    pull: Annotated[
        bool,
        typer.Option(
            "--pull",
            help="First fetch missing deps, then restore stages from the remote's run-cache "
            "and outputs (not with --dry).",
        ),
    ] = False,
    remote: Annotated[
        str | None,
        typer.Option(
            "-r", "--remote", help="Remote for --pull and --executor (default: core.remote)."
        ),
    ] = None,
    executor_kind: Annotated[
        str | None,
        typer.Option(
            "--executor",
            help="Run the stages elsewhere: 'process' (local worker processes) or 'dask'.",
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Dask scheduler (default: [executor] address)."),
    ] = None,
    no_download: Annotated[
        bool,
        typer.Option("--no-download", help="With --executor: leave the outputs in the store."),
    ] = False,
    single_item: Annotated[
        bool,
        typer.Option(
            "-s", "--single-item", help="Only the named stages, not the stages they need."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the stages whose deps, params, outs or cmd changed.

    Stages run in dependency order.
    """
    from gitml.errors import StageFailedError
    from gitml.pipeline.repro import repro as do_repro
    from gitml.pipeline.repro_plan import ReproOptions

    c = ctx.obj
    ws = _workspace(ctx)
    options = ReproOptions(
        targets=tuple(targets or ()), force=force, dry=dry, downstream=downstream,
        keep_going=keep_going, jobs=jobs, run_cache=not no_run_cache,
        single_item=single_item, stage_output_to_stderr=as_json,
    )  # fmt: skip
    out_stream = sys.stderr if as_json else sys.stdout
    write_lock = threading.Lock()

    def emit(text: str) -> None:
        if not c.quiet:
            with write_lock:
                out_stream.write(text + "\n")
                out_stream.flush()

    def output(stage: str, line: bytes) -> None:
        if not line.endswith(b"\n"):
            line += b"\n"
        with write_lock:
            out_stream.flush()
            out_stream.buffer.write(f"[{stage}] ".encode() + line)
            out_stream.buffer.flush()

    source = None
    if pull and not dry:
        from gitml.ops.pipeline_sync import RemoteRunSource
        from gitml.ops.pull import pull_missing_deps
        from gitml.repo import open_store

        for path in pull_missing_deps(ws, remote, options):
            emit(f"Restored {ws.display(path)}")
        source = RemoteRunSource(ws, open_store(ws, remote, None))
    executor = None
    if executor_kind is not None and not dry:
        from gitml.executor.driver import open_executor

        executor = open_executor(
            ws, executor_kind, address=address, remote=remote, download=not no_download
        )
    elif (address or no_download) and not dry:
        from gitml.errors import UsageError

        raise UsageError("--address and --no-download go with --executor")
    clock = None
    if as_json and not dry:
        from gitml.exp.meta import RunClock

        clock = RunClock(ws.root)
    try:
        result = do_repro(ws, options, emit, output, source, executor)
    finally:
        if executor is not None:
            executor.close()
    if as_json:
        doc: dict[str, Any] = {"stages": [r.to_json() for r in result.stages]}
        if clock is not None:
            from gitml.exp.meta import pipeline_values

            doc["meta"] = clock.finish(result.stages)
            doc["params"], doc["metrics"] = pipeline_values(ws.root)
        _print_json(doc)
    elif dry:
        for r in result.stages:
            if r.outcome in ("would run", "would restore"):
                verb = "Would run" if r.outcome == "would run" else "Would restore"
                how = "" if r.outcome == "would run" else " from the run-cache"
                reasons = ", ".join(str(x) for x in r.reasons)
                c.say(f"{verb} stage '{r.name}'{how}: {reasons}")
        if not any(r.outcome.startswith("would") for r in result.stages):
            c.say("Everything is up to date.")
    else:
        acted = [r for r in result.stages if r.outcome not in ("unchanged", "frozen")]
        if not acted:
            c.say("Everything is up to date.")
        elif jobs > 1 or len(result.stages) > 1:
            c.say(f"\nSummary: {_summary(result.stages)}")
            for r in result.stages:
                if r.outcome in ("failed", "skipped") and r.message:
                    label = "not run" if r.outcome == "skipped" else r.outcome
                    c.say(f"  {r.name}: {label} ({r.message})")
        _git_hint(c, result.touched)
    if result.failed:
        failed = result.failed
        if len(failed) == 1:
            raise StageFailedError(f"stage '{failed[0].name}' failed: {failed[0].message}")
        details = "; ".join(f"{r.name}: {r.message}" for r in failed)
        raise StageFailedError(f"{len(failed)} stages failed: {details}")


# dag ------------------------------------------------------------------------------


def dag(
    ctx: typer.Context,
    dot: Annotated[bool, typer.Option("--dot", help="Graphviz DOT.")] = False,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Mermaid flowchart.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the stage graph.

    Stages in run order, each with the stages it needs.
    """
    from gitml.pipeline.repro_plan import load

    _, graph = load(_workspace(ctx))
    order = graph.order()
    edges = graph.edges()
    if as_json:
        _print_json({"stages": order, "edges": [list(e) for e in edges]})
    elif dot:
        lines = ["digraph gitml {"]
        lines += [f"  {json.dumps(n)};" for n in order]
        lines += [f"  {json.dumps(a)} -> {json.dumps(b)};" for a, b in edges]
        typer.echo("\n".join([*lines, "}"]))
    elif mermaid:
        ids = {n: f"s{i}" for i, n in enumerate(order)}
        lines = ["flowchart TD"]
        lines += [f'  {ids[n]}["{n}"]' for n in order]
        lines += [f"  {ids[a]} --> {ids[b]}" for a, b in edges]
        typer.echo("\n".join(lines))
    else:
        width = max((len(n) for n in order), default=0)
        for name in order:
            needs = sorted(graph.parents[name], key=order.index)
            suffix = f"  <- {', '.join(needs)}" if needs else ""
            typer.echo(f"{name:<{width}}{suffix}".rstrip())


# params / metrics --------------------------------------------------------------------


def _revs(a: str | None, b: str | None) -> tuple[str | None, str | None, str, str]:
    """(rev_a, rev_b, label_a, label_b): default HEAD vs the workspace."""
    rev_a = a or "HEAD"
    return rev_a, b, rev_a, b or "workspace"


def _print_diff(changes: list[Any], kind: str, labels: tuple[str, str], as_json: bool, md: bool,
                empty: str) -> None:  # fmt: skip
    from gitml.pipeline.metrics import diff_json, show_change, show_value, table

    if as_json:
        _print_json(diff_json(changes))
        return
    if not changes:
        typer.echo(empty)
        return
    rows = [[c.file, c.key, show_value(c.old), show_value(c.new), show_change(c)] for c in changes]
    header = ["Path", kind, labels[0], labels[1], "Change"]
    typer.echo(table(header, rows, markdown=md))


@params_app.command("diff")
def params_diff(
    ctx: typer.Context,
    a_rev: Annotated[str | None, typer.Argument(help="Old revision (default HEAD).")] = None,
    b_rev: Annotated[str | None, typer.Argument(help="New revision (default workspace).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show unchanged params too.")] = False,
    as_json: JsonOpt = False,
    md: MdOpt = False,
) -> None:
    """Params the stages use, old -> new, between two revisions."""
    from gitml.pipeline.metrics import diff, params_targets_at, read_params
    from gitml.pipeline.repro_plan import load
    from gitml.pipeline.revision_files import RevisionFiles

    ws = _workspace(ctx)
    pipeline, _ = load(ws)
    rev_a, rev_b, label_a, label_b = _revs(a_rev, b_rev)
    with RevisionFiles(ws) as files:
        old = read_params(files, rev_a, params_targets_at(files, rev_a, pipeline))
        new = read_params(files, rev_b, params_targets_at(files, rev_b, pipeline))
    changes = diff(old, new, include_unchanged=show_all)
    _print_diff(changes, "Param", (label_a, label_b), as_json, md, "No changes in params.")


@metrics_app.command("diff")
def metrics_diff(
    ctx: typer.Context,
    a_rev: Annotated[str | None, typer.Argument(help="Old revision (default HEAD).")] = None,
    b_rev: Annotated[str | None, typer.Argument(help="New revision (default workspace).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show unchanged metrics too.")] = False,
    as_json: JsonOpt = False,
    md: MdOpt = False,
    fail_if: Annotated[
        list[str] | None,
        typer.Option("--fail-if", metavar="EXPR", help="Gate: exit 1 when EXPR is true."),
    ] = None,
    allow_missing: Annotated[
        bool, typer.Option("--allow-missing", help="Skip gates whose values are missing.")
    ] = False,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the report to [notify.*] when a gate fails.")
    ] = False,
) -> None:
    """Compare the stages' metrics between two revisions.

    Shows old -> new with the change. A metrics file that is a cached stage out is read
    at a revision through its gitml.lock, from the cache or, when the cache lacks it,
    the default remote. With --fail-if it is a gate: exit 1 when any expression is
    true (SPEC 7.3).
    """
    from gitml.gates import parse_all
    from gitml.pipeline.metrics import diff, metrics_files_at, read_metrics
    from gitml.pipeline.repro_plan import load
    from gitml.pipeline.revision_files import RevisionFiles

    expressions = parse_all(fail_if or [])
    ws = _workspace(ctx)
    pipeline, _ = load(ws)
    rev_a, rev_b, label_a, label_b = _revs(a_rev, b_rev)
    with RevisionFiles(ws) as files:
        old = read_metrics(files, rev_a, metrics_files_at(files, rev_a, pipeline))
        new = read_metrics(files, rev_b, metrics_files_at(files, rev_b, pipeline))
    changes = diff(old, new, include_unchanged=show_all)
    if expressions:
        from gitml.cli.metrics_gate import gate_metrics_diff

        gate_metrics_diff(
            ws, changes, (old, new), (label_a, label_b), expressions,
            allow_missing=allow_missing, notify=notify, as_json=as_json, md=md,
        )  # fmt: skip
        return
    _print_diff(changes, "Metric", (label_a, label_b), as_json, md, "No changes in metrics.")


@metrics_app.command("show")
def metrics_show(
    ctx: typer.Context,
    revs: Annotated[
        list[str] | None, typer.Option("-R", "--rev", help="Show at this revision too.")
    ] = None,
    all_branches: Annotated[
        bool, typer.Option("-a", "--all-branches", help="Show at every branch tip too.")
    ] = False,
    as_json: JsonOpt = False,
    md: MdOpt = False,
) -> None:
    """Metrics the stages declare, in the workspace (and at revisions).

    A metrics file that is a cached stage out is read at a revision through its
    gitml.lock, from the cache or, when the cache lacks it, the default remote.
    """
    from gitml import git
    from gitml.pipeline.metrics import metrics_files_at, read_metrics, show_value, table
    from gitml.pipeline.repro_plan import load
    from gitml.pipeline.revision_files import RevisionFiles

    ws = _workspace(ctx)
    pipeline, _ = load(ws)
    wanted: list[str | None] = [None, *dict.fromkeys(revs or [])]
    if all_branches:
        wanted += [b for b in git.branches(ws.root) if b not in wanted]
    with RevisionFiles(ws) as files:
        paths = {rev: metrics_files_at(files, rev, pipeline) for rev in wanted}
        shown = {
            ("workspace" if rev is None else rev): read_metrics(files, rev, paths[rev])
            for rev in wanted
        }
    if as_json:
        _print_json(shown)
        return
    rows = [
        [label, file, key, show_value(value)]
        for label, values in shown.items()
        for file, flat in values.items()
        for key, value in flat.items()
    ]
    if not rows:
        declared = any(paths.values())
        typer.echo("No metrics found." if declared else "No metrics files declared in gitml.yaml.")
        return
    typer.echo(table(["Revision", "Path", "Metric", "Value"], rows, markdown=md))


def register(app: typer.Typer) -> None:
    app.add_typer(stage_app, name="stage")
    app.command("repro")(repro)
    app.command("dag")(dag)
    app.add_typer(params_app, name="params")
    app.add_typer(metrics_app, name="metrics")
