"""Where gitml's own -q/-v flags may stand on the command line."""

from gitml.cli.app import _hoist_global_flags


def test_flags_after_the_subcommand_are_gitmls() -> None:
    assert _hoist_global_flags(["add", "-q", "data"]) == ["-q", "add", "data"]
    assert _hoist_global_flags(["status", "-v", "--json"]) == ["-v", "status", "--json"]


def test_flags_after_double_dash_are_left_alone() -> None:
    assert _hoist_global_flags(["add", "--", "-q"]) == ["add", "--", "-q"]


def test_stage_command_keeps_its_own_flags() -> None:
    args = ["-q", "stage", "add", "-n", "train", "python", "train.py", "-v"]
    assert _hoist_global_flags(args) == args
