"""`gitml model register|promote|demote|show|get`: the model registry on git tags in
GTO's format (SPEC 7.4)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gitml.cli.output import print_json

model_app = typer.Typer(
    help="Model registry: versions and stages as git tags.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


def _push_hint(ctx: typer.Context, tags: list[str]) -> None:
    ctx.obj.say(f"\nTo share it, run:\n\n    git push origin {' '.join(tags)}\n")


@model_app.command("register")
def register_model(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    rev: Annotated[str | None, typer.Argument(help="Revision to register (default HEAD).")] = None,
    path: Annotated[
        str | None,
        typer.Option("--path", help="Tracked output or stage out (default: artifacts.NAME.path)."),
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="vX.Y.Z to register.")] = None,
    bump: Annotated[
        str | None, typer.Option("--bump", help="major, minor or patch of the latest version.")
    ] = None,
    message: Annotated[str | None, typer.Option("-m", "--message", help="Tag message.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a model version: an annotated tag NAME@vX.Y.Z at REV."""
    from gitml.registry.ops import register as do_register

    ws = ctx.obj.workspace()
    done = do_register(ws, name, rev, path=path, version=version, bump=bump, message=message)
    if as_json:
        print_json({"name": done.name, "version": done.version, "commit": done.commit,
                    "tag": done.tag, "path": done.path})  # fmt: skip
        return
    ctx.obj.say(
        f"Registered {done.name} {done.version} ({done.path} at {done.commit[:7]}): tag {done.tag}"
    )
    _push_hint(ctx, [done.tag])


@model_app.command("promote")
def promote_model(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="vX.Y.Z or latest.")],
    to: Annotated[str, typer.Option("--to", help="Stage to assign (e.g. prod).")],
    fail_if: Annotated[
        list[str] | None,
        typer.Option("--fail-if", metavar="EXPR", help="Gate against the version now in STAGE."),
    ] = None,
    allow_missing: Annotated[
        bool, typer.Option("--allow-missing", help="Skip gates whose values are missing.")
    ] = False,
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the report to [notify.*] when a gate fails.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Assign a stage to a model version.

    Tags NAME#STAGE#N; with --fail-if, only if the gate passes.
    """
    from gitml.registry.ops import find_version, promote, stage_holder
    from gitml.registry.state import read

    ws = ctx.obj.workspace()
    document: dict[str, Any] = {"name": name, "stage": to}
    if fail_if:
        from gitml.gates import parse_all

        expressions = parse_all(fail_if)
        model, target = find_version(read(ws.root), name, version)
        current = stage_holder(model, to)
        document.update(version=target.version, previous=current.version if current else None)
        if not _gate(
            ctx, ws, expressions, current, target, allow_missing, notify, as_json, document
        ):
            raise typer.Exit(1)
    made = promote(ws.root, name, version, to)
    document.update(tags=made, promoted=True)
    if as_json:
        print_json(document)
        return
    shown = version if version != "latest" else f"latest ({_latest(ws, name)})"
    ctx.obj.say(f"Promoted {name} {shown} to {to}: tag {made[0]}")
    _push_hint(ctx, made)


def _latest(ws: Any, name: str) -> str:
    from gitml.registry.ops import find_version
    from gitml.registry.state import read

    return find_version(read(ws.root), name, "latest")[1].version


def _gate(
    ctx: typer.Context, ws: Any, expressions: Any, current: Any, target: Any,
    allow_missing: bool, notify: bool, as_json: bool, document: dict[str, Any],
) -> bool:  # fmt: skip
    from gitml.cli.gate_output import gate_table, say_failures, send_notifications
    from gitml.gates import evaluate_all, passed
    from gitml.pipeline.metrics import metrics_files, pipeline_at, read_metrics
    from gitml.pipeline.revision_files import RevisionFiles

    with RevisionFiles(ws) as files:

        def values(commit: str | None) -> dict[str, dict[str, Any]]:
            if commit is None:
                return {}
            then = pipeline_at(files, commit)
            return read_metrics(files, commit, metrics_files(then)) if then else {}

        old = values(current.commit if current else None)
        new = values(target.commit)
    outcomes = evaluate_all(expressions, old, new, allow_missing=allow_missing)
    ok = passed(outcomes)
    document.update(gates=[o.to_json() for o in outcomes], passed=ok)
    if not ok:
        document.update(promoted=False, tags=[])
        if as_json:
            print_json(document)
        else:
            typer.echo(gate_table(outcomes, markdown=False))
        say_failures(outcomes)
        typer.echo(
            f"gitml: {document['name']} {target.version} not promoted to {document['stage']}",
            err=True,
        )
        if notify:
            send_notifications(ws.root, ws.config, {"kind": "model promote", **document})
    elif not as_json:
        typer.echo(gate_table(outcomes, markdown=False))
    return ok


@model_app.command("demote")
def demote_model(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    stage: Annotated[str, typer.Option("--from", help="Stage to leave empty.")],
) -> None:
    """Leave STAGE empty for NAME (GTO's unassign tag NAME#STAGE!#N)."""
    from gitml.registry.ops import demote

    ws = ctx.obj.workspace()
    made = demote(ws.root, name, stage)
    ctx.obj.say(f"Demoted {name} from {stage}: tag {', '.join(made)}")
    _push_hint(ctx, made)


@model_app.command("show")
def show_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this model.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List models, their versions and stages.

    Each version with its commit, date, path, content id and metrics.
    """
    from gitml.cli.model_show_cmd import collect, print_json, warn_problems

    document = collect(ctx.obj.quiet, name)
    if as_json:
        print_json(document)
    else:
        _print_models(document)
    warn_problems(document)


def _print_models(document: dict[str, Any]) -> None:
    from gitml.pipeline.metrics import show_value

    if not document["models"]:
        typer.echo("No models registered (run 'gitml model register NAME').")
    for model in document["models"]:
        flag = " (deprecated)" if model["deprecated"] else ""
        typer.echo(f"{model['name']}{flag}  latest: {model['latest'] or '-'}")
        stages = ", ".join(f"{s}: {v or '-'}" for s, v in model["stages"].items())
        typer.echo(f"  stages: {stages or '-'}")
        for v in model["versions"]:
            metrics = " ".join(
                f"{k}={show_value(x)}" for values in (v["metrics"] or {}).values()
                for k, x in values.items()
            )  # fmt: skip
            content = (v["content_id"] or "-")[:19]
            date = (v["date"] or "-")[:10]
            where = f"{v['commit'][:7]}  {date}  {v['path'] or '-'}  {content}"
            typer.echo(f"  {v['version']:<10} {where}  {metrics}".rstrip())


@model_app.command("get")
def get_model(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE.")],
    out: Annotated[str | None, typer.Option("-o", "--out", help="Where to write.")] = None,
    repo: Annotated[
        str | None, typer.Option("--repo", help="Another gitml repository: local path or git URL.")
    ] = None,
    remote: Annotated[
        str | None, typer.Option("-r", "--remote", help="Remote to read from.")
    ] = None,
    force: Annotated[bool, typer.Option("-f", "--force", help="Replace OUT if it exists.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a model version's bytes, without a checkout.

    The bytes are hash-verified, from the cache or the remote.
    """
    from gitml.registry.fetch import get_model as do_get
    from gitml.ui import make_progress

    root = None
    if repo is None:
        root = ctx.obj.workspace().root
    version, result = do_get(reference, root=root, repo=repo, out=out, remote=remote, force=force,
                             progress=make_progress(ctx.obj.quiet or as_json))  # fmt: skip
    if as_json:
        print_json({"name": version.name, "version": version.version, "commit": version.commit,
                    **result.to_json()})  # fmt: skip
        return
    ctx.obj.say(f"Wrote {version.name} {version.version} ({result.path}) to {result.out}")
