"""The `gitml` entry point: `--version`, a plain `status`, `add PATH...` and `exp show`
with an output format run without typer.

typer (and the click it vendors) takes longer to import than a no-op `status` takes to
run, and `gitml status` runs in git hooks and prompts. Everything else, and anything with
an argument these paths do not know (`--help`, paths, `--remote`), goes to the typer app in
gitml/cli/app.py, which prints and exits exactly as these paths do.
"""

from __future__ import annotations

import sys

GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose")

# Commands whose trailing words are a shell command of their own: flags there belong to it.
_COMMAND_TAKING = (["stage", "add"],)


def hoist_global_flags(args: list[str]) -> list[str]:
    """Accept -q/-v anywhere before `--` (`gitml add -q data`), as DVC and git users expect.

    In `gitml stage add ... python train.py -v` the `-v` is the stage command's: only flags
    before `stage` are gitml's there.
    """
    end = args.index("--") if "--" in args else len(args)
    words = [a for a in args[:end] if a not in GLOBAL_FLAGS]
    if any(words[: len(prefix)] == prefix for prefix in _COMMAND_TAKING):
        end = args.index(words[0])
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    rest = [a for a in args[:end] if a not in GLOBAL_FLAGS]
    return [*dict.fromkeys(flags), *rest, *args[end:]]


def report_failure(exc: BaseException, verbose: bool) -> int | None:
    """Print what went wrong (one line, a traceback only with -v) and return the exit
    code; None for exceptions that are not a user-facing failure."""
    from gitml.errors import GitmlError

    if isinstance(exc, GitmlError):
        _traceback(verbose)
        sys.stderr.write(f"gitml: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("gitml: interrupted\n")
        return 130
    if isinstance(exc, OSError):
        _traceback(verbose)
        where = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"gitml: error: {exc.strerror or exc}{where}\n")
        return 1
    return None


def _traceback(verbose: bool) -> None:
    if verbose:
        import traceback

        traceback.print_exc()


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
