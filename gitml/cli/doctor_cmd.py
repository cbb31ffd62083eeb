"""`gitml doctor [--json]`: versions, cache and link types, remotes, hooks."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from gitml.cli.output import human_size
from gitml.errors import GitmlError


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each remote.")
    ] = 10.0,
) -> None:
    """Check this setup: versions, links, remotes, hooks.

    Reports the versions, the cache's link types, whether remotes are reachable, and
    the hooks. Exits 1 when it finds a problem.
    """
    from gitml.doctor import diagnose

    report = diagnose(timeout=timeout)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        _print(report)
    if report.problems:
        raise GitmlError(
            f"{len(report.problems)} problem(s) found" + ("" if as_json else ": see above")
        )


def _print(report: object) -> None:
    from gitml.doctor import Report

    assert isinstance(report, Report)
    v = report.versions
    out = [
        f"gitml {v['gitml']} (Python {v['python']}, {v['python_executable']})",
        f"platform: {v['platform']}",
        f"git: {v['git'] or 'NOT FOUND'}",
        "dependencies: " + ", ".join(f"{k} {d or 'missing'}" for k, d in v["dependencies"].items()),
        f"workspace: {report.workspace or 'none (not inside a gitml workspace)'}",
    ]
    c = report.cache
    if c:
        works = c.get("link_types_supported", {})
        out += [
            f"cache: {c['dir']}" + ("" if c["exists"] else " (not created yet)"),
            f"  filesystem: {c.get('filesystem') or 'unknown'}",
            "  link types supported here: "
            + (", ".join(t for t, ok in works.items() if ok) or "none"),
            f"  cache.type: {', '.join(c['link_types_configured'])}"
            f" -> uses {c.get('link_type_used') or 'nothing that works'}",
        ]
        stale = c.get("stale_temp_files", {})
        if stale.get("count"):
            out.append(
                f"  stale temp files: {stale['count']} ({human_size(stale['bytes'])}) left by "
                "killed gitml processes; the next add, commit or checkout removes them"
            )
    if report.workspace:
        if not report.remotes:
            out.append("remotes: none")
        for r in report.remotes:
            state = {True: "reachable", False: "NOT reachable", None: "NO ANSWER"}[r.reachable]
            mark = " (default)" if r.default else ""
            line = f"remote {r.name}{mark}: {r.url}: {state} ({r.seconds:.1f} s)"
            out.append(line + (f": {r.error}" if r.error else ""))
    if report.hooks.get("installed"):
        hooks = report.hooks["installed"]
        done = [name for name, ok in hooks.items() if ok]
        out.append(
            f"hooks ({report.hooks['dir']}): "
            + (", ".join(done) if done else "not installed (run 'gitml install')")
        )
    for problem in report.problems:
        out.append(f"problem: {problem}")
    typer.echo("\n".join(out))
