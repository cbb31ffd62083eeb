"""Generated experiment names: short, readable, valid refs, never one already taken."""

from __future__ import annotations

import re

import pytest

from gitml.errors import UsageError
from gitml.exp.names import generate
from gitml.exp.refs import check_name, message, parse_info


def test_generated_names_are_valid_and_avoid_taken_ones() -> None:
    taken: set[str] = set()
    for _ in range(2000):  # more than the 1,600 adjective-noun pairs: numbers take over
        name = generate(taken)
        assert name not in taken
        assert re.fullmatch(r"[a-z]+-[a-z]+(-\d+)?", name)
        assert check_name(name) == name
        taken.add(name)


@pytest.mark.parametrize("bad", ["", "-x", ".x", "a/b", "a b", "x.lock", "a..b", "é"])
def test_bad_names_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        check_name(bad)


def test_record_round_trips_through_the_commit_message() -> None:
    info = {"name": "x", "state": "failed", "stderr_tail": "line 1\nline 2", "params": {"a": 1}}
    text = message("x", info)
    assert text.startswith("gitml experiment x\n\n")
    assert parse_info(text) == info
    assert parse_info("a commit without a record") == {}
