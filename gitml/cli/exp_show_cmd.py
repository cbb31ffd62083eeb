"""`gitml exp show` as JSON, CSV or Markdown. No typer here: `gitml exp show --json` (and
--csv/--md, -A, --sort-by, --desc) runs from gitml/cli/fast.py without importing it; the
table for a terminal (rich) stays in gitml/cli/exp_cmds.py."""

from __future__ import annotations

import sys
from typing import Any

FORMATS = ("--json", "--csv", "--md")


def collect(quiet: bool, all_commits: bool, sort_by: str | None, desc: bool) -> dict[str, Any]:
    from gitml.cli.status_cmd import open_workspace
    from gitml.exp import show

    doc = show.collect(open_workspace(quiet), all_baselines=all_commits)
    if sort_by:
        from gitml.exp.table import sort_rows

        doc["experiments"] = sort_rows(doc["experiments"], sort_by, descending=desc)
    return doc


def print_doc(doc: dict[str, Any], form: str) -> None:
    if form == "--json":
        import json

        # Compact unless a person reads it: with 1,000 experiments json's indenting
        # (pure Python) cost more than everything else exp show does.
        indent = 2 if sys.stdout.isatty() else None
        sys.stdout.write(json.dumps(doc, indent=indent, default=str) + "\n")
    elif form == "--csv":
        from gitml.exp.table import render_csv

        sys.stdout.write(render_csv(doc))
    else:
        from gitml.exp.table import render_markdown

        sys.stdout.write(render_markdown(doc) + "\n")


def fast_exp_show(quiet: bool, args: list[str]) -> int | None:
    """Run `exp show ARGS` when ARGS are only options this module knows and name an output
    format; None otherwise (the typer app then runs it)."""
    form, all_commits, desc, sort_by = None, False, False, None
    words = iter(args)
    for word in words:
        if word in FORMATS and form is None:
            form = word
        elif word in ("-A", "--all-commits"):
            all_commits = True
        elif word == "--desc":
            desc = True
        elif word == "--sort-by" and sort_by is None:
            sort_by = next(words, None)
            if sort_by is None or sort_by.startswith("-"):
                return None
        elif word.startswith("--sort-by=") and sort_by is None:
            sort_by = word.removeprefix("--sort-by=")
        else:
            return None
    if form is None:
        return None
    print_doc(collect(quiet, all_commits, sort_by, desc), form)
    return 0
