"""gitml.datafiles: YAML 1.2 as DVC's ruamel.yaml reads it, and bounds on every data file."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from gitml.datafiles import dump_yaml, load_json, load_toml, load_yaml, reads_as_string
from gitml.errors import FormatError

_RUAMEL = YAML(typ="safe", pure=True)  # what DVC reads dvc.yaml and params.yaml with


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 0.001), ("1E3", 1000.0), ("no", "no"), ("on", "on"), ("yes", "yes"),
        ("off", "off"), ("010", 10), ("0o10", 8), ("0x1F", 31), ("1_000", 1000),
        ("1:30", "1:30"), ("True", True), ("false", False), ("~", None), ("", None),
        (".5", 0.5), ("-.inf", -math.inf), ("y", "y"),
    ],
)  # fmt: skip
def test_scalars_read_as_yaml_1_2(text: str, value: Any) -> None:
    assert _same(load_yaml(f"v: {text}\n", "p.yaml")["v"], value)
    assert _same(_RUAMEL.load(f"v: {text}\n")["v"], value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+-._eExobOTtrufalsnyN~:", min_size=1, max_size=8))
def test_plain_scalars_agree_with_ruamel(text: str) -> None:
    document = f"v: {text}\n"
    try:
        expected = _RUAMEL.load(document)
    except Exception:
        return  # not a plain scalar ruamel accepts; syntax errors are compared elsewhere
    assert _same(load_yaml(document, "p.yaml")["v"], expected["v"]), text


def test_merge_keys_with_overrides() -> None:
    text = "base: &d {seed: 1, lr: 0.1}\nexp:\n  <<: *d\n  seed: 43\n"
    assert load_yaml(text, "params.yaml")["exp"] == {"seed": 43, "lr": 0.1}


def test_duplicate_keys_are_still_refused() -> None:
    with pytest.raises(FormatError, match=r"params.yaml:3:1: malformed YAML: duplicate key 'a'"):
        load_yaml("a: 1\nb: 2\na: 3\n", "params.yaml")


def test_dump_quotes_strings_either_yaml_version_would_change() -> None:
    values = {"a": "1e3", "b": "on", "c": "010", "d": "yes", "e": "plain"}
    text = dump_yaml(values)
    assert load_yaml(text, "x") == values
    assert "e: plain" in text
    assert not reads_as_string("1e3") and not reads_as_string("no")
    assert reads_as_string("train.py")


def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = _alias_bomb(9)
    assert len(bomb) < 500
    with pytest.raises(FormatError, match=r"gitml.yaml: YAML aliases expand to more than"):
        load_yaml(bomb, "gitml.yaml")


def test_modest_alias_reuse_is_fine() -> None:
    assert len(load_yaml(_alias_bomb(4), "x")["a3"]) == 9


def test_self_referencing_alias_is_refused() -> None:
    with pytest.raises(FormatError, match="refers to the collection that contains it"):
        load_yaml("a: &a [1, *a]\n", "x.yaml")


def test_depth_bounds() -> None:
    deep = "[" * 300 + "]" * 300
    for loader, data in ((load_yaml, deep), (load_json, deep.encode())):
        with pytest.raises(FormatError, match="nested deeper than 200 levels"):
            loader(data, "f")
    toml = "a = " + "[" * 300 + "]" * 300 + "\n"
    with pytest.raises(FormatError, match="nested deeper than 200 levels"):
        load_toml(toml.encode(), "p.toml")


def test_size_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gitml.datafiles.MAX_BYTES", 1024)
    with pytest.raises(FormatError, match=r"p\.yaml: larger than"):
        load_yaml("a: 1\n" * 300, "p.yaml")
