"""`-S` parsing, grids and round-trip editing of params files (YAML, JSON, TOML)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from gitml.errors import GitmlError, UsageError
from gitml.exp.overrides import apply, grid, parse_override, parse_overrides


def test_values_are_typed_as_yaml() -> None:
    o = parse_override("train.lr=0.1")
    assert (o.file, o.key, o.values, o.add) == ("params.yaml", "train.lr", (0.1,), False)
    assert parse_override("flag=true").values == (True,)
    assert parse_override("n=3").values == (3,)
    assert parse_override("name=abc").values == ("abc",)
    assert parse_override("name=").values == ("",)


def test_file_prefix_and_add() -> None:
    o = parse_override("conf/p.json:+model.depth=4")
    assert (o.file, o.key, o.values, o.add) == ("conf/p.json", "model.depth", (4,), True)
    o = parse_override("+x=1")
    assert (o.file, o.key, o.add) == ("params.yaml", "x", True)


def test_commas_form_a_grid_except_in_one_yaml_value() -> None:
    assert parse_override("a=1,2,3").values == (1, 2, 3)
    assert parse_override("a=[1,2]").values == ([1, 2],)
    assert parse_override("a={x: 1, y: 2}").values == ({"x": 1, "y": 2},)
    assert parse_override("a='x,y'").values == ("x,y",)
    runs = grid(parse_overrides(["a=1,2", "b=x,y"]))
    assert len(runs) == 4
    assert {(r[0].value, r[1].value) for r in runs} == {(1, "x"), (1, "y"), (2, "x"), (2, "y")}
    assert grid([]) == [[]]


@pytest.mark.parametrize("text", ["novalue", "=3", "a b=1", "x.yaml:=1", "p.txt:a=1", "a=[1,"])
def test_malformed_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_override(text)


YAML_TEXT = """\
# training parameters
train:
  lr: 0.01   # learning rate
  epochs: 10
  layers:
    - 32
    - 16
seed: 1
"""


def test_yaml_edit_keeps_comments_and_layout(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    changed = apply(tmp_path, grid(parse_overrides(["train.lr=0.1", "train.layers.1=8"]))[0])
    assert changed == ["params.yaml"]
    text = (tmp_path / "params.yaml").read_text()
    assert text == YAML_TEXT.replace("0.01 ", "0.1  ").replace("- 16", "- 8")
    assert yaml.safe_load(text)["train"]["lr"] == 0.1


def test_yaml_string_that_looks_like_a_bool_stays_a_string(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("opt: adam\n")
    apply(tmp_path, grid(parse_overrides(["opt='yes'"]))[0])
    assert yaml.safe_load((tmp_path / "params.yaml").read_text()) == {"opt": "yes"}


def test_unknown_key_names_it_and_plus_adds_it(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    with pytest.raises(GitmlError) as info:
        apply(tmp_path, grid(parse_overrides(["train.lrr=1"]))[0])
    assert "train.lrr" in info.value.message and "+train.lrr" in (info.value.hint or "")
    assert (tmp_path / "params.yaml").read_text() == YAML_TEXT
    apply(tmp_path, grid(parse_overrides(["+train.opt.name=sgd"]))[0])
    assert yaml.safe_load((tmp_path / "params.yaml").read_text())["train"]["opt"] == {"name": "sgd"}


def test_nothing_written_when_one_file_fails(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    (tmp_path / "p.json").write_text('{"a": 1}\n')
    with pytest.raises(GitmlError):
        apply(tmp_path, grid(parse_overrides(["p.json:a=2", "nope=1"]))[0])
    assert (tmp_path / "p.json").read_text() == '{"a": 1}\n'


def test_json_keeps_indentation(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{\n    "a": 1,\n    "b": {"c": "x"}\n}\n')
    apply(tmp_path, grid(parse_overrides(["p.json:b.c=y", "p.json:a=2"]))[0])
    text = (tmp_path / "p.json").read_text()
    assert json.loads(text) == {"a": 2, "b": {"c": "y"}}
    assert text.startswith('{\n    "a": 2')


def test_toml_keeps_comments(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text("# top\n[train]\nlr = 0.01 # rate\n")
    apply(tmp_path, grid(parse_overrides(["p.toml:train.lr=0.5"]))[0])
    text = (tmp_path / "p.toml").read_text()
    assert "# top" in text and "# rate" in text
    assert tomllib.loads(text) == {"train": {"lr": 0.5}}


def test_missing_file_without_add(tmp_path: Path) -> None:
    with pytest.raises(GitmlError, match="does not exist"):
        apply(tmp_path, grid(parse_overrides(["a=1"]))[0])
