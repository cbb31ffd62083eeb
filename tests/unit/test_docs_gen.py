"""The documentation generator (scripts/mkdocs_gen.py): a page per command, from the CLI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import typer

from gitml.cli.app import register_all

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mkdocs_gen", ROOT / "scripts" / "mkdocs_gen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _visible_commands() -> list[str]:
    root = typer.main.get_command(register_all())
    ctx = root.make_context("gitml", [], resilient_parsing=True)
    names = []
    for name in root.list_commands(ctx):  # type: ignore[attr-defined]
        command = root.get_command(ctx, name)  # type: ignore[attr-defined]
        if command.hidden:
            continue
        names.append(name)
        sub_ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        for sub in getattr(command, "list_commands", lambda _c: [])(sub_ctx):
            if not command.get_command(sub_ctx, sub).hidden:
                names.append(f"{name}-{sub}")
    return names


def test_every_command_has_a_generated_page() -> None:
    pages = _generator().command_pages()
    commands = _visible_commands()
    assert {"install", "doctor", "push", "remote-add"} <= set(commands)
    assert set(pages) == {f"commands/{c}.md" for c in commands} | {"commands/index.md"}
    for name in commands:
        assert f"({name}.md)" in pages["commands/index.md"]
    install = pages["commands/install.md"]
    assert install.startswith("# gitml install\n")
    assert "`--strict`" in install and "`--uninstall`" in install
    assert "Usage: gitml remote add [OPTIONS] NAME URL" in pages["commands/remote-add.md"]
    assert not any("git-hook" in p for p in pages)  # hidden


def test_error_reference_lists_messages_from_the_source() -> None:
    page = _generator().errors_page()
    assert "`gitml.hooks`" in page
    assert "already exists; gitml would have nowhere to keep it" in page
    assert "remote '<name>' is unreachable while <what>" in page
