"""`gitml model show [NAME] --json` without typer: gitml/cli/fast.py runs it, because with
thousands of registry tags importing typer was a fifth of the command's time. The text
table stays in gitml/cli/model_cmds.py; both build the document here."""

from __future__ import annotations

import json
import sys
from typing import Any


def collect(quiet: bool, name: str | None) -> dict[str, Any]:
    from gitml.cli.status_cmd import open_workspace
    from gitml.registry.state import TagListing, read

    ws = open_workspace(quiet)
    listing = TagListing(ws.root)  # git reads the tags while Python imports the rest
    from gitml.registry.details import show
    from gitml.registry.ops import RegistryError

    registry = read(ws.root, listing)
    if name is not None and registry.model(name) is None:
        raise RegistryError(f"no model named '{name}' in the registry")
    return show(ws, registry, name)


def print_json(document: dict[str, Any]) -> None:
    # Compact: json's C encoder; indenting 10,000 versions took longer than reading them.
    sys.stdout.write(json.dumps(document, default=str) + "\n")


def warn_problems(document: dict[str, Any]) -> None:
    for problem in document["problems"]:
        sys.stderr.write(f"gitml: warning: {problem}\n")


def fast_model_show(quiet: bool, args: list[str]) -> int | None:
    """Run `model show ARGS` when ARGS are `--json` and at most one model name; None
    otherwise (the typer app then runs it)."""
    if "--json" not in args:
        return None
    names = [a for a in args if a != "--json"]
    if len(names) > 1 or any(a.startswith("-") for a in names) or args.count("--json") > 1:
        return None
    document = collect(quiet, names[0] if names else None)
    print_json(document)
    warn_problems(document)
    return 0
