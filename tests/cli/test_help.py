"""Every `gitml ... --help` reads like git's: whole sentences, `PATH...`-style usage lines,
one row per option with its short and long names together."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from gitml.cli.app import register_all
from tests.conftest import run_gitml

WIDTH = 80
# Usage: gitml remote add [OPTIONS] NAME URL / [PATH]... / PATH... / COMMAND [ARGS]...
USAGE = re.compile(
    r"Usage: gitml(?: [a-z][a-z-]*)* \[OPTIONS\]"
    r"(?: (?:\[[A-Z][A-Z_]*\]|[A-Z][A-Z_]*)(?:\.\.\.)?)*(?: COMMAND \[ARGS\]\.\.\.)?"
)


def _command_paths() -> Iterator[list[str]]:
    def walk(command: Any, path: list[str], ctx: Any) -> Iterator[list[str]]:
        yield path
        for name in getattr(command, "list_commands", lambda _c: [])(ctx):
            sub = command.get_command(ctx, name)
            if not sub.hidden:
                sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
                yield from walk(sub, [*path, name], sub_ctx)

    root = typer.main.get_command(register_all())
    yield from walk(root, [], root.make_context("gitml", [], resilient_parsing=True))


PATHS = list(_command_paths())


def _help(path: list[str], tmp_path: Path, width: int = WIDTH) -> str:
    env = {"COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb"}
    result = run_gitml(*path, "--help", cwd=tmp_path, env=env)
    assert result.stderr == ""
    return result.stdout


def _sections(text: str) -> dict[str, list[str]]:
    """'Usage', 'description', and each titled section ('Options', 'Commands', ...)."""
    sections: dict[str, list[str]] = {"description": []}
    current = "description"
    for line in text.splitlines():
        if line.startswith("Usage: "):
            sections["Usage"] = [line]
        elif re.fullmatch(r"[A-Z][a-z ]+:", line):
            current = line[:-1]
            sections[current] = []
        else:
            sections[current].append(line)
    return sections


def _rows(lines: list[str]) -> list[str]:
    """Table rows ('  -r, --remote NAME  Remote ...'), continuation lines joined on."""
    rows: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if re.match(r"  \S", line) or not rows:
            rows.append(line.strip())
        else:
            rows[-1] += " " + line.strip()
    return rows


def test_the_command_tree_is_walked() -> None:
    assert [] in PATHS and ["status"] in PATHS and ["remote", "add"] in PATHS
    assert len(PATHS) > 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "gitml")
def test_help_reads_like_git(path: list[str], tmp_path: Path) -> None:
    text = _help(path, tmp_path)
    sections = _sections(text)
    usage = sections["Usage"][0]
    assert USAGE.fullmatch(usage.rstrip()), usage  # no {PATH}, {url} {path}, [names]...
    assert text.count("Usage:") == 1 and "╭" not in text

    # The description is whole paragraphs: a line ends early only where its paragraph ends.
    paragraphs = "\n".join(sections["description"]).strip().split("\n\n")
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        for line, after in itertools.pairwise(lines):
            next_word = after.split()[0]
            assert len(line) + 1 + len(next_word) > WIDTH - 2, f"broken early:\n{paragraph}"

    # Subcommands are listed with a whole first sentence, never cut short with '...'.
    for row in _rows(sections.get("Commands", [])):
        summary = row.partition(" ")[2]
        assert summary.strip().endswith((".", ")")), row
        assert not summary.endswith("..."), row

    for row in _rows(sections.get("Options", [])):
        names = row.split("  ")[0]
        # A short option shares its row with its long name, as git's `-r, --remote NAME`.
        assert re.match(r"--|-[a-zA-Z], --", names), row
        # Value names are words (REV, N), not type names.
        assert not re.search(r"<[a-z ]+>", names), row

    for row in _rows(sections.get("Arguments", [])):
        assert re.match(r"\[?[A-Z][A-Z_]*\]?(\.\.\.)? ", row), row


def test_status_lists_remote_and_its_short_form_on_one_row(tmp_path: Path) -> None:
    rows = _rows(_sections(_help(["status"], tmp_path))["Options"])
    remote_rows = [r for r in rows if "--remote" in r or re.match(r"-r\b", r)]
    assert len(remote_rows) == 1 and remote_rows[0].startswith("-r, --remote "), rows
    assert "-r [NAME]" in remote_rows[0]


def test_a_narrow_terminal_wraps_summaries_instead_of_cutting_them(tmp_path: Path) -> None:
    rows = _rows(_sections(_help([], tmp_path, width=60))["Commands"])
    assert len(rows) > 25
    for row in rows:
        assert row.endswith(".") and not row.endswith("..."), row


def test_status_r_takes_an_optional_remote_name(repo: Path, tmp_path: Path) -> None:
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=repo)
    (repo / "a.txt").write_bytes(b"a")
    run_gitml("add", "a.txt", cwd=repo)
    for args in (["-r"], ["-r", "store"], ["--remote", "store"], ["--remote", "store", "a.txt"]):
        doc = json.loads(run_gitml("status", *args, "--json", cwd=repo).stdout)
        assert doc["remote"] == "store" and doc["missing_objects"] == 1, args
    typo = run_gitml("status", "-r", "stor", cwd=repo, check=False)
    assert typo.returncode == 1
    assert "stor is not tracked by gitml, nor a configured remote (known: store)" in typo.stderr
