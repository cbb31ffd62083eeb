"""Gate expressions: the parser (no eval) and what each term computes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml.errors import UsageError
from gitml.gates import evaluate, parse, passed

OLD = {"metrics.json": {"auc": 0.8, "loss": 0.3, "zero": 0, "name": "x"}, "eval.json": {"f1": 0.5}}
NEW = {"metrics.json": {"auc": 0.7, "loss": 0.6, "zero": 1, "name": "y"}, "eval.json": {"f1": 0.6}}


@pytest.mark.parametrize(
    ("text", "function", "key", "op", "number"),
    [
        ("auc < 0.5", None, "auc", "<", 0.5),
        ("change(auc)<-0.01", "change", "auc", "<", -0.01),
        ("  rel( train.loss )  >=  1e-3 ", "rel", "train.loss", ">=", 0.001),
        ("metrics.json:auc != 1", None, "metrics.json:auc", "!=", 1.0),
        ("a.b-c/d == 2", None, "a.b-c/d", "==", 2.0),
        ("x<=3", None, "x", "<=", 3.0),
        ("x > +4", None, "x", ">", 4.0),
    ],
)
def test_parse(text: str, function: str | None, key: str, op: str, number: float) -> None:
    e = parse(text)
    assert (e.function, e.key, e.op, e.number) == (function, key, op, number)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("", 1),
        ("auc", 4),
        ("auc < ", 7),
        ("auc < high", 7),
        ("change(auc < 1", 12),
        ("auc = 1", 5),
        ("auc < nan", 7),
        ("auc(1) < 2", 4),
        ("__import__('os') < 1", 11),
    ],
)
def test_malformed_points_at_column(text: str, column: int) -> None:
    with pytest.raises(UsageError) as info:
        parse(text)
    assert info.value.exit_code == 2
    assert f"at column {column}:" in info.value.message


@given(st.text(max_size=30))
def test_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(UsageError):
        parse(text)


@given(
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_change_matches_arithmetic(op: str, old: float, new: float, bound: float) -> None:
    import operator

    ops = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "==": operator.eq, "!=": operator.ne}  # fmt: skip
    outcome = evaluate(parse(f"change(m) {op} {bound!r}"), {"f": {"m": old}}, {"f": {"m": new}})
    assert outcome.value == new - old
    assert outcome.failed == ops[op](new - old, bound)


def test_terms() -> None:
    key = evaluate(parse("loss > 0.5"), OLD, NEW)
    assert (key.value, key.failed, key.file) == (0.6, True, "metrics.json")
    change = evaluate(parse("change(auc) < -0.05"), OLD, NEW)
    assert change.value == pytest.approx(-0.1) and change.failed
    rel = evaluate(parse("rel(f1) > 0.1"), OLD, NEW)
    assert rel.value == pytest.approx(0.2) and rel.failed
    assert not evaluate(parse("rel(f1) > 0.3"), OLD, NEW).failed


def test_missing_fails_unless_allowed() -> None:
    for text in ("rel(zero) > 1", "nothing < 1", "name > 1", "change(eval.json:nope) < 0"):
        strict = evaluate(parse(text), OLD, NEW)
        assert strict.failed and strict.missing and strict.value is None
        lenient = evaluate(parse(text), OLD, NEW, allow_missing=True)
        assert not lenient.failed and lenient.skipped
    only_new = evaluate(parse("change(auc) < 0"), {}, NEW)
    assert only_new.failed and "old" in (only_new.missing or "")
    assert not evaluate(parse("auc < 0"), {}, NEW).failed  # KEY reads only the new side
    assert passed([evaluate(parse("auc < 0"), {}, NEW)])


def test_ambiguous_key_is_usage_error_and_file_prefix_resolves() -> None:
    old = {"a.json": {"auc": 1}, "b.json": {"auc": 2}}
    new = {"a.json": {"auc": 3}, "b.json": {"auc": 1}}
    with pytest.raises(UsageError) as info:
        evaluate(parse("auc < 1"), old, new)
    assert "a.json, b.json" in info.value.message and info.value.exit_code == 2
    outcome = evaluate(parse("change(b.json:auc) < 0"), old, new)
    assert (outcome.file, outcome.key, outcome.value, outcome.failed) == ("b.json", "auc", -1, True)
