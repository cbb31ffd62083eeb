"""mkdocs hook (mkdocs.yml `hooks:`): pages generated at build time, so they cannot drift.

- `commands/*.md`: one page per command, from the CLI's own click/typer objects (usage,
  help text, arguments, options); a new command gets its page and nav entry by itself.
- `reference/errors.md`: every error message gitml can raise, read from the source
  (`raise SomethingError("...")`), grouped by module.
- the `File formats` nav section lists every `docs/spec/*.md`.

Run by `mkdocs build` (scripts/test.sh builds with --strict). `python scripts/mkdocs_gen.py
DIR` writes the generated pages to DIR instead, to read them without mkdocs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMMANDS_NAV = "Commands"
FORMATS_NAV = "File formats"


# Commands -------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


_TYPE_NAMES = {"str": "TEXT", "text": "TEXT", "int": "INTEGER", "int range": "INTEGER"}


def _argument_usage(param: Any) -> str:
    if param.metavar:
        return str(param.metavar)
    name = param.name.upper() + ("..." if param.nargs == -1 else "")
    return name if param.required else f"[{name}]"


def _code(text: str) -> str:
    """A table cell holding `text` literally (code span; `<`, `*` and `|` stay as they are)."""
    text = _cell(text)
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _param_row(param: Any) -> str:
    if param.param_type_name == "argument":
        name = f"`{_argument_usage(param)}`"
    else:
        name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            type_name = param.type.name.lower()
            metavar = param.metavar or _TYPE_NAMES.get(type_name, type_name.upper())
            name += f" `{metavar.replace(' RANGE', '')}`"
    notes = []
    if param.required:
        notes.append("required")
    repeatable = getattr(param, "multiple", False) or param.nargs == -1
    if repeatable and "repeatable" not in (getattr(param, "help", None) or ""):
        notes.append("repeatable")
    default = param.default
    if default not in (None, False, (), []) and not callable(default):
        notes.append(f"default: `{default}`")
    help_text = _cell(getattr(param, "help", None) or "")
    extra = f" ({', '.join(notes)})" if notes else ""
    return f"| {name} | {help_text}{extra} |"


def _page(path: list[str], command: Any, ctx: Any) -> str:
    title = " ".join(["gitml", *path])
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    pieces = ["[OPTIONS]", *(_argument_usage(p) for p in arguments)]
    if _subcommands(command, ctx):
        pieces.append("COMMAND [ARGS]...")
    usage = " ".join([title, *pieces])
    help_text = (command.help or "").strip()
    lines = [f"# {title}", "", "```text", f"Usage: {usage}", "```", ""]
    if help_text:
        lines += [help_text, ""]
    options = [
        p
        for p in command.params
        if p.param_type_name == "option" and not getattr(p, "hidden", False)
    ]
    if arguments:
        lines += ["## Arguments", "", "| argument | meaning |", "|---|---|"]
        lines += [_param_row(p) for p in arguments] + [""]
    lines += ["## Options", "", "| option | meaning |", "|---|---|"]
    lines += [_param_row(p) for p in options]
    lines += ["| `-h`, `--help` | Show the help and exit. |", ""]
    subcommands = _subcommands(command, ctx)
    if subcommands:
        lines += ["## Subcommands", ""]
        for name, sub in subcommands:
            lines.append(f"- [`{title} {name}`]({_slug([*path, name])}.md): {_short(sub)}")
        lines.append("")
    lines += [
        "Every command also takes the [global options](index.md#global-options) "
        "`-q`/`--quiet` and `-v`/`--verbose`.",
        "",
        "*Generated from `" + title + " --help` when the documentation is built.*",
        "",
    ]
    return "\n".join(lines)


def _slug(path: list[str]) -> str:
    return "-".join(path)


def _short(command: Any) -> str:
    text = (command.help or "").strip().split("\n\n")[0]
    return _cell(text)


def _subcommands(command: Any, ctx: Any) -> list[tuple[str, Any]]:
    if not hasattr(command, "list_commands"):
        return []
    found = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            found.append((name, sub))
    return found


TITLES: dict[str, str] = {}  # 'commands/remote-add.md' -> 'gitml remote add'


def command_pages() -> dict[str, str]:
    """{'commands/add.md': markdown, ...} including 'commands/index.md'."""
    from gitml.cli.app import build_command, register_all

    root = build_command(register_all())
    root_ctx = root.make_context("gitml", [], resilient_parsing=True)
    pages: dict[str, str] = {}
    index_rows: list[str] = []

    def walk(path: list[str], command: Any, parent: Any) -> None:
        ctx = command.make_context(path[-1], [], parent=parent, resilient_parsing=True)
        pages[f"commands/{_slug(path)}.md"] = _page(path, command, ctx)
        TITLES[f"commands/{_slug(path)}.md"] = "gitml " + " ".join(path)
        index_rows.append(f"| [`gitml {' '.join(path)}`]({_slug(path)}.md) | {_short(command)} |")
        for name, sub in _subcommands(command, ctx):
            walk([*path, name], sub, ctx)

    for name, command in _subcommands(root, root_ctx):
        walk([name], command, root_ctx)
    global_rows = [_param_row(p) for p in root.params if not getattr(p, "hidden", False)]
    pages["commands/index.md"] = "\n".join(
        [
            "# Commands",
            "",
            (root.help or "").strip(),
            "",
            "| command | does |",
            "|---|---|",
            *index_rows,
            "",
            "## Global options",
            "",
            "Given before or after the command name (`gitml -q pull`, `gitml pull -q`).",
            "",
            "| option | meaning |",
            "|---|---|",
            *global_rows,
            "",
            "Exit status: 0 on success, 1 on a failure (one line `gitml: error: ...` on "
            "stderr, see [Troubleshooting](../troubleshooting.md)), 2 on a usage error, "
            "130 when interrupted.",
            "",
            "*Generated from the CLI when the documentation is built.*",
            "",
        ]
    )
    return pages


# Error messages -------------------------------------------------------------------------


def _message(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("<" + ast.unparse(value.value) + ">")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _message(node.left), _message(node.right)
        if left is not None or right is not None:
            return (left or "<...>") + (right or "<...>")
    return None


# Programming errors that gitml never shows as `gitml: error: ...`.
_INTERNAL = {"ValueError", "TypeError", "AssertionError", "KeyError", "RuntimeError"}


def error_messages() -> dict[str, list[tuple[str, str]]]:
    """{module: [(ErrorClass, message template), ...]}: every `XError("...")` built in the
    source (raised there, or returned by an adapter's translation function)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((ROOT / "gitml").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if not name.endswith("Error") or name in _INTERNAL or not node.args:
                continue
            message = _message(node.args[0])
            if message:
                found.setdefault(module, []).append((name, message))
    return found


def errors_page() -> str:
    lines = [
        "# Every error message",
        "",
        "Each failure prints one line `gitml: error: MESSAGE` (sometimes followed by "
        "`hint: ...`) and exits 1 (2 for usage errors). Below is every message in the "
        "source, `<...>` standing for the part filled in at run time (a path, a remote "
        "name). [Troubleshooting](../troubleshooting.md) explains the common ones.",
        "",
    ]
    for module, items in error_messages().items():
        lines += [f"## `{module}`", "", "| error | message |", "|---|---|"]
        seen = set()
        for name, message in items:
            if (name, message) in seen:
                continue
            seen.add((name, message))
            lines.append(f"| `{name}` | {_code(message)} |")
        lines.append("")
    lines += ["*Generated from the source when the documentation is built.*", ""]
    return "\n".join(lines)


# mkdocs hooks ---------------------------------------------------------------------------


def generated_pages() -> dict[str, str]:
    return {**command_pages(), "reference/errors.md": errors_page()}


_PAGES: dict[str, str] = {}


def on_config(config: Any) -> Any:
    sys.path.insert(0, str(ROOT))
    _PAGES.clear()
    _PAGES.update(generated_pages())
    commands = [p for p in TITLES if p in _PAGES]
    specs = sorted(
        p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs" / "spec").glob("*.md")
    )
    nav = config["nav"] or []
    for i, entry in enumerate(nav):
        if isinstance(entry, dict) and COMMANDS_NAV in entry:
            nav[i] = {
                COMMANDS_NAV: [
                    {"All commands": "commands/index.md"},
                    *({TITLES[p]: p} for p in commands),
                ]
            }
        elif isinstance(entry, dict) and FORMATS_NAV in entry:
            nav[i] = {FORMATS_NAV: list(specs)}
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for src_uri, content in _PAGES.items():
        files.append(File.generated(config, src_uri, content=content))
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "site-generated")
    for name, text in generated_pages().items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
        print(out / name)
