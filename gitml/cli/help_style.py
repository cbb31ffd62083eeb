"""git-style help for the click commands typer builds: value names `PATH...`, `[REV]`,
`URL PATH`, `--jobs N` instead of typer's `{PATH}`, `{url} {path}` and `<int range>`, and
command lists with each command's whole first sentence."""

from __future__ import annotations

from typing import Any

import typer.core

# Option value names, by long option, where the option's own name would not say what to type.
VALUE_NAMES = {
    "jobs": "N",
    "commits": "N",
    "timeout": "SECONDS",
    "remote": "NAME",
    "set-param": "KEY=VALUE",
    "threshold": "RULE",
    "sort-by": "KEY",
    "deps": "PATH",
    "outs": "PATH",
    "outs-no-cache": "PATH",
    "metrics": "PATH",
    "metrics-no-cache": "PATH",
    "target": "PATH",
    "schema": "PATH",
    "checks": "PATH",
    "out": "PATH",
    "wdir": "DIR",
    "desc": "TEXT",
    "message": "TEXT",
    "params": "KEYS",
    "against": "REV",
    "baseline": "REV",
    "find": "FILE",
    "bump": "PART",
    "from": "STAGE",
    "to": "STAGE",
    "repo": "URL",
    "executor": "KIND",
    "address": "URL",
}


class _Argument(typer.core.TyperArgument):
    """An argument whose usage is its metavar as written (typer wraps required ones in {})."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        return str(self.metavar)


def _argument_metavar(param: Any) -> str:
    name = str(param.metavar or param.name.upper()).upper()
    if param.nargs == -1 and not name.endswith("..."):
        # git's `<pathspec>...`: the name of one, then dots
        name = (name[:-1] if name.endswith("S") and not param.metavar else name) + "..."
    if not param.required and not name.startswith("["):
        stem, dots, _ = name.partition("...")
        name = f"[{stem}]{dots}"
    return name


def _takes_unnamed_value(option: Any) -> bool:
    return option.metavar is None and not (option.is_flag or option.count)


def _option_metavar(param: Any) -> str:
    longs = [o.lstrip("-") for o in param.opts if o.startswith("--")]
    name = longs[0] if longs else str(param.name)
    return VALUE_NAMES.get(name, name.upper().replace("-", "_"))


def _summary(help_text: str) -> str:
    """The first sentence of the first paragraph (click would cut it at the column limit
    with '...'; as `short_help` it wraps instead, at any terminal width)."""
    words: list[str] = []
    for word in help_text.split("\n\n")[0].split():
        words.append(word)
        if word.endswith("."):
            break
    return " ".join(words)


def git_style(command: Any) -> Any:
    """`command` and its subcommands, with git-style value names and whole one-sentence
    summaries in command lists; returns `command`."""
    if not command.short_help and command.help:
        command.short_help = _summary(command.help)
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            param.metavar = _argument_metavar(param)
            param.__class__ = _Argument
        elif isinstance(param, typer.core.TyperOption) and _takes_unnamed_value(param):
            param.metavar = _option_metavar(param)
    for sub in getattr(command, "commands", {}).values():
        git_style(sub)
    return command
