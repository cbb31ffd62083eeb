"""`gitml add` and what `add`/`commit` print. No typer here: `gitml add PATH...` runs from
gitml/cli/fast.py without importing it."""

from __future__ import annotations

import sys
from typing import Any

from gitml.cli.output import human_size, plural


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        sys.stdout.write(line + "\n")


def git_hint(quiet: bool, files: list[str]) -> None:
    if files:
        command = "git add " + " ".join(files)
        _say(quiet, f"\nTo track the changes with git, run:\n\n    {command}\n")


def record(quiet: bool, results: list[Any], verb: str) -> None:
    from gitml.pointer import pointer_path_for

    ws_files: list[str] = []
    for r in results:
        p = r.pointer
        what = f"{plural(p.nfiles, 'file')}, " if p.kind == "dir" else ""
        state = verb if r.changed else "Unchanged"
        _say(quiet, f"{state} {r.relpath} ({what}{human_size(p.size)})")
        if r.changed:
            ws_files.append(pointer_path_for(r.relpath))
        if r.gitignore_changed:
            parent = r.relpath.rpartition("/")[0]
            ws_files.append(f"{parent}/.gitignore" if parent else ".gitignore")
    git_hint(quiet, list(dict.fromkeys(ws_files)))


def show_add(quiet: bool, paths: list[str], verify: bool) -> int:
    from gitml.cli.status_cmd import open_workspace
    from gitml.ops.add import add

    record(quiet, add(open_workspace(quiet), paths, verify=verify), "Added")
    return 0
