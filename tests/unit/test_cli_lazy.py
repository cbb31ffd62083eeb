"""The CLI's table of lazily loaded command modules matches what the modules register."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import typer

from gitml.cli.app import LAZY_COMMANDS, command_names


def test_lazy_table_names_exactly_what_each_module_registers() -> None:
    for module_name, names in LAZY_COMMANDS.items():
        scratch = typer.Typer()
        importlib.import_module(module_name).register(scratch)
        assert sorted(command_names(scratch)) == sorted(names), module_name


def test_status_does_not_import_other_command_modules() -> None:
    code = (
        "import sys\n"
        "from gitml.cli.app import main\n"
        "main(['status'])\n"
        "print(','.join(m for m in sys.modules if m.startswith('gitml.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=False
    )
    loaded = set(out.stdout.strip().splitlines()[-1].split(","))
    assert not loaded & set(LAZY_COMMANDS), out.stdout + out.stderr


def test_help_lists_lazily_loaded_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gitml", "--help"], capture_output=True, text=True, check=True
    )
    for names in LAZY_COMMANDS.values():
        for name in names:
            if name != "git-hook":  # hidden
                assert name in out.stdout


def test_version_and_plain_status_do_not_import_typer(tmp_path: Path) -> None:
    """They run from gitml/cli/fast.py: typer's import costs more than a no-op status."""
    code = (
        "import sys\n"
        "from gitml.cli.fast import fast_path\n"
        "code = fast_path(sys.argv[1:])\n"
        "print(code, 'typer' in sys.modules)\n"
    )
    for args in (["--version"], ["status"], ["-q", "status", "--json"], ["add", "x"]):
        out = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path
        )
        assert out.stdout.strip().splitlines()[-1].endswith(" False"), (args, out)
    # anything else is the typer app's
    out = subprocess.run(
        [sys.executable, "-c", code, "status", "data"], capture_output=True, text=True
    )
    assert out.stdout.strip() == "None False"
