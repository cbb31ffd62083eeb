"""What both CLI entry paths share (gitml/cli/fast.py without typer, gitml/cli/app.py with
it): the global flags, and how a failure becomes one line on stderr and an exit code."""

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
