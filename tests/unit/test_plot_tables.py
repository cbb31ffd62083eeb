"""Plot files as tables, and the axis ticks charts use."""

from __future__ import annotations

import pytest

from gitml.errors import FormatError
from gitml.plots.data import fields_of, parse_table
from gitml.plots.definitions import PlotDef, plot_def
from gitml.plots.svg import nice_ticks


def test_csv_tsv_json_yaml_tables() -> None:
    assert parse_table(b"step,loss\n0,1.5\n1,0.5\n", "a.csv", "a.csv") == [
        {"step": 0, "loss": 1.5},
        {"step": 1, "loss": 0.5},
    ]
    assert parse_table(b"x\ty\n1\tcat\n", "a.tsv", "a.tsv") == [{"x": 1, "y": "cat"}]
    assert parse_table(b"3,4\n5,6\n", "a.csv", "a.csv", header=False) == [
        {"0": 3, "1": 4},
        {"0": 5, "1": 6},
    ]
    assert parse_table(b'{"train": [{"a": 1}, {"a": 2}]}', "m.json", "m.json") == [
        {"a": 1},
        {"a": 2},
    ]
    assert parse_table(b"- {a: 1, b: x}\n", "m.yaml", "m.yaml") == [{"a": 1, "b": "x"}]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "e.csv", "e.csv: not a table (the file is empty)"),
        (b"a,b\n1,2,3\n", "r.csv", "r.csv:2: not a table (3 fields, the header has 2)"),
        (b"a,a\n1,2\n", "d.csv", "d.csv: not a table (the header row has empty or repeated names)"),
        (b"[1, 2]", "l.json", "l.json: not a table (expected a list of records with named fields)"),
        (b'{"a": [], "b": []}', "t.json", "t.json: not a table (expected a list of records"),
        (b"{nope", "bad.json", "bad.json: not a table (invalid JSON"),
        (b"\xff\xfe", "bin.csv", "bin.csv: not a table (not UTF-8 text)"),
        (b"a,b\n", "p.parquet", "p.parquet: not a table (use .csv, .tsv, .json or .yaml)"),
    ],
)
def test_what_is_not_a_table(data: bytes, name: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_table(data, name, name)
    assert str(caught.value).startswith(message)


def test_fields_default_to_row_number_and_last_field_and_are_checked() -> None:
    rows = [{"epoch": 0, "acc": 0.5, "loss": 1.0}]
    assert fields_of(PlotDef("p.csv"), rows, "p.csv") == (None, ("loss",))
    assert fields_of(PlotDef("p.csv", x="epoch", y=("acc", "loss")), rows, "p.csv") == (
        "epoch",
        ("acc", "loss"),
    )
    with pytest.raises(FormatError, match=r"p.csv: no field 'f1' \(fields: epoch, acc, loss\)"):
        fields_of(PlotDef("p.csv", y=("f1",)), rows, "p.csv")


def test_plot_properties() -> None:
    assert plot_def("roc.csv", {"template": "linear", "y": ["tpr"]}, "w").template == "line"
    assert plot_def("cm.csv", {"template": "confusion_normalized"}, "w").template == "confusion"
    assert plot_def("s.PNG", {}, "w").is_image
    with pytest.raises(FormatError, match="unknown plot template 'pie'"):
        plot_def("p.csv", {"template": "pie"}, "w")
    with pytest.raises(FormatError, match="y must be a field name or a list of field names"):
        plot_def("p.csv", {"y": 3}, "w")


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.78, 1.02, [0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05]),
        (3.0, 3.0, [2.0, 2.5, 3.0, 3.5, 4.0]),
        (-10.0, 40.0, [-10.0, 0.0, 10.0, 20.0, 30.0, 40.0]),
    ],
)
def test_nice_ticks_cover_the_range(low: float, high: float, ticks: list[float]) -> None:
    got = nice_ticks(low, high)
    assert got == ticks
    assert got[0] <= low and got[-1] >= high
