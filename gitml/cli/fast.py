"""The `gitml` entry point: `--version`, a plain `status`, `add PATH...`, `exp show`
with an output format and `model show --json` run without typer.

typer (and the click it vendors) takes longer to import than a no-op `status` takes to
run, and `gitml status` runs in git hooks and prompts. Everything else, and anything with
an argument these paths do not know (`--help`, paths, `--remote`), goes to the typer app in
gitml/cli/app.py, which prints and exits exactly as these paths do.
"""

from __future__ import annotations

import sys

from gitml.cli.common import GLOBAL_FLAGS, report_failure


def fast_path(args: list[str]) -> int | None:
    """The exit code of `args` run here, or None when the typer app must run them."""
    from gitml import __version__

    if args == ["--version"]:
        sys.stdout.write(f"gitml {__version__}\n")
        return 0
    flags = [a for a in args if a in GLOBAL_FLAGS]
    rest = [a for a in args if a not in GLOBAL_FLAGS]
    quiet = "-q" in flags or "--quiet" in flags
    verbose = "-v" in flags or "--verbose" in flags
    try:
        if rest in (["status"], ["status", "--json"]):
            from gitml.cli.status_cmd import show_status

            return show_status(quiet, None, rest[-1] == "--json")
        if rest[:1] == ["add"] and len(rest) > 1 and not any(a.startswith("-") for a in rest):
            from gitml.cli.add_cmd import show_add

            return show_add(quiet, rest[1:], True)
        if rest[:2] == ["exp", "show"]:
            from gitml.cli.exp_show_cmd import fast_exp_show

            return fast_exp_show(quiet, rest[2:])
        if rest[:2] == ["model", "show"]:
            from gitml.cli.model_show_cmd import fast_model_show

            return fast_model_show(quiet, rest[2:])
        return None
    except (Exception, KeyboardInterrupt) as exc:
        code = report_failure(exc, verbose)
        if code is None:
            raise
        return code


def run() -> None:
    code = fast_path(sys.argv[1:])
    if code is None:
        from gitml.cli.app import run as run_app

        run_app()
    sys.exit(code)
