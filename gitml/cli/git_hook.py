"""What each git hook does. Run by the installed hook scripts as
`python -m gitml.cli.git_hook NAME [--strict] [-q] [-- GIT'S ARGS]` (no typer: a clean
pre-commit must stay well under half a second) and by `gitml git-hook NAME`."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from gitml.errors import GitmlError, UsageError

if TYPE_CHECKING:
    from gitml.workspace import Workspace

HOOK_NAMES = ("pre-commit", "pre-push", "post-checkout", "post-merge")


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def run(name: str, args: list[str], *, strict: bool = False, quiet: bool = False) -> None:
    """Run hook `name` with git's arguments `args`; failures raise GitmlError."""
    from gitml.errors import NotAWorkspaceError
    from gitml.workspace import Workspace

    if name not in HOOK_NAMES:
        raise UsageError(f"unknown hook {name!r} (choose from {', '.join(HOOK_NAMES)})")
    try:
        ws = Workspace.find()
    except NotAWorkspaceError:
        return  # e.g. a commit from before `gitml init` was checked out: nothing to do
    if name == "pre-commit":
        _pre_commit(ws, strict)
    elif name == "pre-push":
        _pre_push(ws, args, quiet)
    elif name == "post-checkout":
        flag = args[2] if len(args) >= 3 else os.environ.get("PRE_COMMIT_CHECKOUT_TYPE", "1")
        if flag == "1":  # 0: a file checkout (git checkout -- PATH); pointers did not switch
            _checkout(ws, quiet)
    else:
        _checkout(ws, quiet)


def _pre_commit(ws: Workspace, strict: bool) -> None:
    from gitml.checkout_journal import unfinished_paths
    from gitml.ops.precommit import check

    torn = unfinished_paths(ws.tmp_dir)
    if torn:  # its half-written files would otherwise be reported as data changes
        message = (
            f"a checkout was interrupted; {len(torn)} file(s) it was writing may be incomplete "
            f"(first: {torn[0]}); run 'gitml checkout' to finish"
        )
        if strict:
            raise GitmlError(message, hint="'git commit --no-verify' commits anyway")
        _err(f"gitml: warning: {message}")
        return
    report = check(ws)
    if not report.problems:
        return
    lines = ["gitml: tracked data changed but its pointer or gitml.lock was not updated:"]
    for p in report.problems:
        what = p.path if p.state == "stage stale" else ws.display(p.path)
        lines.append(f"\t{p.state + ':':<20} {what}" + (f" ({p.message})" if p.message else ""))
    lines.append(
        "Record the data with 'gitml commit' (stages: 'gitml repro'), then 'git add' the "
        "pointer files and gitml.lock."
    )
    _err("\n".join(lines))
    if strict:
        raise GitmlError(
            f"commit stopped: {len(report.problems)} tracked output(s) or pointer(s) not "
            "recorded (gitml install --strict)",
            hint="'git commit --no-verify' commits anyway",
        )


def _pre_push(ws: Workspace, args: list[str], quiet: bool) -> None:
    from gitml.ops import prepush
    from gitml.remote import config as remote_config

    env = os.environ
    if "PRE_COMMIT_REMOTE_NAME" in env:  # run by the pre-commit framework: refs in env
        tip = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH", "")
        old = env.get("PRE_COMMIT_FROM_REF") or prepush.ZERO
        updates = [prepush.RefUpdate("", tip, "", old)] if tip else []
        git_remote = env["PRE_COMMIT_REMOTE_NAME"]
    else:
        updates = prepush.parse_updates(sys.stdin.read())
        git_remote = args[0] if args else ""
    commits = prepush.commits_to_push(ws, updates, git_remote)
    if not commits or not prepush.has_pointers(ws, commits):
        return
    if remote_config.default_name(ws.config) is None and not env.get(remote_config.ENV_REMOTE):
        _err(
            "gitml: no default gitml remote, so the data of the pushed commits stays local; "
            "add one with 'gitml remote add -d NAME URL'"
        )
        return
    result = prepush.pre_push(ws, commits)
    problems = result.failed + [(p, f"{p}: not in the local cache") for p in result.not_in_cache]
    if problems:
        for _path, reason in problems[:20]:
            _err(f"gitml: {reason}")
        raise GitmlError(
            f"{len(problems)} object(s) the pushed commits need are not on remote "
            f"'{result.remote}'; git push stopped",
            hint="fix it and push again, or 'git push --no-verify' to push without the data",
        )
    if result.transferred and not quiet:
        _err(f"gitml: pushed {len(result.transferred)} object(s) to '{result.remote}'")


def _checkout(ws: Workspace, quiet: bool) -> None:
    from gitml.ops.checkout import checkout

    result = checkout(ws, None)
    if not quiet:
        for relpath in result.restored:
            _err(f"gitml: restored {ws.display(relpath)}")
    if result.failed:
        for relpath, reason in result.failed:
            _err(f"gitml: {ws.display(relpath)}: {reason}")
        raise GitmlError(
            f"{len(result.failed)} output(s) not checked out: objects missing from the cache",
            hint="run 'gitml pull' to fetch them from a remote",
        )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" in args:
        cut = args.index("--")
        options, rest = args[:cut], args[cut + 1 :]
    else:
        options, rest = args, []
    flags = {a for a in options if a.startswith("-")}
    names = [a for a in options if not a.startswith("-")]
    verbose = bool(flags & {"-v", "--verbose"})
    unknown = flags - {"--strict", "-q", "--quiet", "-v", "--verbose"}
    if len(names) != 1 or unknown:
        _err("usage: python -m gitml.cli.git_hook NAME [--strict] [-q] [-v] [-- ARGS...]")
        return 2
    try:
        run(
            names[0],
            rest,
            strict="--strict" in flags,
            quiet=bool(flags & {"-q", "--quiet"}),
        )
        return 0
    except GitmlError as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        _err(f"gitml: error: {exc.message}")
        if exc.hint:
            _err(f"hint: {exc.hint}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("gitml: interrupted")
        return 130
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _err(f"gitml: error: {exc.strerror or exc}{where}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
