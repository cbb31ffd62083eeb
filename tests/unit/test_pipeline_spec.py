"""gitml.yaml parsing and ${...} interpolation, with DVC's semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gitml.errors import FormatError, PathError
from gitml.hashing import hash_bytes
from gitml.pipeline.interpolate import Context, InterpolationError, resolve, to_str
from gitml.pipeline.lockfile import parse_lock, render_entry
from gitml.pipeline.model import LockedPath, LockEntry, OutSpec, ParamsSpec
from gitml.pipeline.spec import Pipeline, parse_pipeline


def parse(tmp_path: Path, doc: dict[str, Any] | str, **files: str) -> Pipeline:
    for name, text in files.items():
        (tmp_path / name.replace("__", ".")).write_text(text)
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False)
    return parse_pipeline(text.encode(), tmp_path)


def ctx(**data: Any) -> Context:
    c = Context()
    c.merge(data, "vars")
    return c


def test_select_nested_keys_and_list_items() -> None:
    c = ctx(a={"b": [{"c": 5}, {"c": 6}]}, flag=True, name="x y")
    assert resolve("${a.b[1].c}", c, "cmd") == 6
    assert resolve("${a.b.0.c}", c, "cmd") == 5
    assert resolve("${flag}", c, "deps") is True  # an exact ${} keeps its type
    assert resolve("run --flag=${flag} ${name}", c, "cmd") == "run --flag=true x y"
    assert resolve(r"literal \${a} and ${a.b[0].c}", c, "cmd") == "literal ${a} and 5"
    assert resolve({"${name}": ["${a.b[0].c}"]}, c, "outs") == {"x y": [5]}


def test_mappings_become_options_only_in_cmd() -> None:
    c = ctx(opts={"lr": 0.1, "verbose": True, "quiet": False, "name": "a b", "layers": [1, 2]})
    assert (
        resolve("train ${opts}", c, "cmd") == "train --lr 0.1 --verbose --name 'a b' --layers 1 2"
    )
    with pytest.raises(InterpolationError, match="cannot interpolate a dict into 'deps'"):
        resolve("x ${opts}", c, "deps")
    with pytest.raises(InterpolationError, match="cannot interpolate a list into 'outs'"):
        resolve("${opts.layers}", c, "outs")


def test_errors_name_the_missing_key() -> None:
    with pytest.raises(InterpolationError, match=r"'a.z' is not defined"):
        resolve("${a.z}", ctx(a={"b": 1}), "cmd")
    with pytest.raises(InterpolationError, match="malformed expression"):
        resolve("${a..b}", ctx(a={"b": 1}), "cmd")


def test_merge_conflicts_are_errors_and_nested_merges_work() -> None:
    c = ctx(grp={"a": 1})
    c.merge({"grp": {"b": 2}}, "vars[1]")
    assert c.data == {"grp": {"a": 1, "b": 2}}
    with pytest.raises(InterpolationError, match=r"cannot redefine .grp\.a. from .f\.yaml."):
        c.merge({"grp": {"a": 7}}, "f.yaml")


scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(
        alphabet=st.characters(blacklist_characters="${}\\", blacklist_categories=("Cs",)),
        max_size=20,
    ),
)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), scalars, min_size=1))
def test_exact_interpolation_keeps_values_and_strings_format_them(data: dict[str, Any]) -> None:
    c = ctx(**data)
    for key, value in data.items():
        assert resolve("${" + key + "}", c, "cmd") == value
        assert resolve("<${" + key + "}>", c, "cmd") == f"<{to_str(value)}>"


def test_params_yaml_vars_files_and_tracking(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        {
            "vars": ["conf.json:model", {"out": "results"}],
            "stages": {
                "train": {
                    "cmd": "train --lr ${train.lr} --depth ${model.depth}",
                    "outs": ["${out}/model.bin"],
                    "params": ["train.epochs", {"other.toml": None}],
                }
            },
        },
        params__yaml="train:\n  lr: 0.01\n  epochs: 5\n",
        conf__json=json.dumps({"model": {"depth": 4}, "unused": 1}),
        other__toml="a = 1\n",
    )
    train = pipeline.stages["train"]
    assert train.cmd == ("train --lr 0.01 --depth 4",)
    assert train.outs == (OutSpec("results/model.bin"),)
    assert train.params == (
        ParamsSpec("params.yaml", ("train.epochs",)),
        ParamsSpec("other.toml", None),
    )
    assert set(train.tracked_vars) == {
        ParamsSpec("params.yaml", ("train.lr",)),
        ParamsSpec("conf.json", ("model.depth",)),
    }


def test_foreach_list_dict_and_composite_items(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        {
            "stages": {
                "simple": {"foreach": ["a", 2, True], "do": {"cmd": "echo ${item}"}},
                "keyed": {
                    "foreach": {"us": {"t": 1}, "eu": {"t": 2}},
                    "do": {"cmd": "t=${item.t} k=${key}"},
                },
                "composite": {"foreach": [{"n": "x"}, {"n": "y"}], "do": {"cmd": "n=${item.n}"}},
            }
        },
    )
    assert list(pipeline.stages) == [
        "simple@a",
        "simple@2",
        "simple@true",
        "keyed@us",
        "keyed@eu",
        "composite@0",
        "composite@1",
    ]
    assert pipeline.stages["simple@true"].cmd == ("echo true",)
    assert pipeline.stages["keyed@eu"].cmd == ("t=2 k=eu",)
    assert pipeline.stages["composite@1"].cmd == ("n=y",)
    assert pipeline.groups["keyed"] == ("keyed@us", "keyed@eu")
    assert pipeline.select(["keyed", "simple@a"]) == ["keyed@us", "keyed@eu", "simple@a"]


def test_matrix_names_as_dvc(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        {
            "stages": {
                "m": {
                    "matrix": {"model": ["cnn", "xgb"], "cfg": [{"a": 1}, {"a": 2}]},
                    "cmd": "fit ${item.model} ${item.cfg.a} ${key}",
                    "outs": ["out/${key}"],
                }
            }
        },
    )
    assert list(pipeline.stages) == ["m@cnn-cfg0", "m@cnn-cfg1", "m@xgb-cfg0", "m@xgb-cfg1"]
    assert pipeline.stages["m@xgb-cfg1"].cmd == ("fit xgb 2 xgb-cfg1",)
    assert pipeline.stages["m@xgb-cfg1"].outs == (OutSpec("out/xgb-cfg1"),)


def test_paths_are_relative_to_wdir_and_validated(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        {
            "stages": {
                "s": {
                    "cmd": "x",
                    "wdir": "src",
                    "deps": ["../data/", "a.py"],
                    "params": ["k"],
                    "outs": [{"o": {"persist": True, "push": False}}],
                }
            }
        },
    )
    s = pipeline.stages["s"]
    assert s.wdir == "src" and s.deps == ("data", "src/a.py")
    assert s.params == (ParamsSpec("src/params.yaml", ("k",)),)
    assert s.outs == (OutSpec("src/o", persist=True, push=False),)
    for bad in ("../../x", "/abs", "../.git/x", "a/.gitml/b", "../gitml.lock", ".."):
        with pytest.raises((FormatError, PathError), match=r"gitml\.yaml: stage .s.: outs"):
            parse(tmp_path, {"stages": {"s": {"cmd": "x", "wdir": "src", "outs": [bad]}}})


def test_lock_entries_round_trip(tmp_path: Path) -> None:
    oid = hash_bytes(b"x")
    entry = LockEntry(
        ("a", "b"),
        True,
        "sub",
        deps=(LockedPath("sub/d", oid, 1, 3),),
        params={"p.yaml": {"x.y": [1, {"z": None}], "k": "on"}},
        outs=(LockedPath("sub/o", oid, 1, executable=True),),
    )
    text = yaml.safe_dump({"version": 1, "stages": {"s": render_entry(entry)}})
    assert parse_lock(text.encode()) == {"s": entry}


def test_params_yaml_listed_in_vars_is_loaded_once_where_listed(tmp_path: Path) -> None:
    pipeline = parse(
        tmp_path,
        {"vars": [{"a": 1}, "params.yaml:b"], "stages": {"s": {"cmd": "echo ${a} ${b}"}}},
        params__yaml="b: 2\nc: 3\n",
    )
    assert pipeline.stages["s"].cmd == ("echo 1 2",)
