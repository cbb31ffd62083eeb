"""Gate expressions (SPEC 7.3): `TERM OP NUMBER`, read by a small parser of their own.

    TERM   := KEY | change(KEY) | rel(KEY)
    KEY    := [FILE:]dotted.metric.key
    OP     := < | <= | > | >= | == | !=

`KEY` is the new value, `change(KEY)` new minus old, `rel(KEY)` the change divided by the
absolute old value. A gate *fails* when its expression is true. A value the expression
needs that is missing (the metric is absent on the side it reads, is not a number, or
`rel` of an old 0) fails it too, unless `allow_missing`, which skips it.

Nothing here is evaluated by Python: the text is tokenized by hand, so `--fail-if` from
an untrusted pull request can do nothing but compare numbers.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitml.errors import UsageError

Values = dict[str, dict[str, Any]]  # file -> dotted key -> value

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
FUNCTIONS = ("change", "rel")
_OP_CHARS = "<>=!"


@dataclass(frozen=True)
class Expression:
    text: str
    function: str | None  # None, "change" or "rel"
    key: str  # as written, possibly FILE:KEY
    op: str
    number: float

    @property
    def term(self) -> str:
        return f"{self.function}({self.key})" if self.function else self.key


def _error(text: str, column: int, what: str) -> UsageError:
    pointer = " " * column + "^"
    return UsageError(
        f"malformed gate expression {text!r} at column {column + 1}: {what}",
        hint=f"\n    {text}\n    {pointer}\nexpected TERM OP NUMBER, e.g. 'change(auc) < -0.01'",
    )


def parse(text: str) -> Expression:
    """One expression; a UsageError (exit 2) pointing at the column where it goes wrong."""
    pos = _skip(text, 0)
    function = None
    for name in FUNCTIONS:
        if text.startswith(name, pos) and text[_skip(text, pos + len(name)) :].startswith("("):
            function = name
            pos = _skip(text, pos + len(name)) + 1
            break
    pos = _skip(text, pos)
    start = pos
    stop_chars = ")" if function else _OP_CHARS
    while pos < len(text) and text[pos] not in stop_chars and not text[pos].isspace():
        if text[pos] in "()" or (function and text[pos] in _OP_CHARS):
            raise _error(text, pos, f"unexpected {text[pos]!r} in a metric key")
        pos += 1
    key = text[start:pos]
    if not key:
        raise _error(text, pos, "expected a metric key")
    pos = _skip(text, pos)
    if function:
        if pos >= len(text) or text[pos] != ")":
            raise _error(text, pos, f"expected ')' to close {function}(")
        pos = _skip(text, pos + 1)
    op = next((o for o in OPERATORS if text.startswith(o, pos)), None)
    if op is None:
        raise _error(text, pos, "expected one of < <= > >= == !=")
    pos = _skip(text, pos + len(op))
    word = text[pos:].strip()
    try:
        number = float(word)
    except ValueError:
        raise _error(text, pos, "expected a number") from None
    if not math.isfinite(number) or word.lower().lstrip("+-").startswith(("inf", "nan")):
        raise _error(text, pos, "expected a finite number")
    return Expression(text.strip(), function, key, op, number)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def parse_all(texts: Iterable[str]) -> list[Expression]:
    return [parse(t) for t in texts]


@dataclass(frozen=True)
class Outcome:
    expression: Expression
    file: str | None
    key: str
    old: Any
    new: Any
    value: float | None  # the term's value; None when missing
    true: bool  # the expression holds (a regression)
    missing: str | None  # why a value is missing, None when none is
    allow_missing: bool

    @property
    def failed(self) -> bool:
        return self.true or (self.missing is not None and not self.allow_missing)

    @property
    def skipped(self) -> bool:
        return self.missing is not None and self.allow_missing

    def describe(self) -> str:
        where = f"{self.file}:{self.key}" if self.file else self.key
        if self.missing is not None:
            return f"{self.expression.text}: {self.missing}"
        shown = f"{self.expression.term} = {_num(self.value)}"
        values = f"old {_num(self.old)}, new {_num(self.new)}"
        return f"{self.expression.text}: {where} {values}, {shown}"

    def to_json(self) -> dict[str, Any]:
        return {
            "expr": self.expression.text,
            "file": self.file,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "value": self.value,
            "failed": self.failed,
            "skipped": self.skipped,
            "missing": self.missing,
        }


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def locate(key: str, old: Values, new: Values, text: str) -> tuple[str | None, str]:
    """(file, dotted key) that `key` names; UsageError when two files have it."""
    files = sorted(set(old) | set(new))
    prefix, sep, rest = key.partition(":")
    if sep and prefix in files:
        return prefix, rest
    holders = [f for f in files if key in old.get(f, {}) or key in new.get(f, {})]
    if len(holders) > 1:
        raise UsageError(
            f"gate {text!r}: metric '{key}' is in {', '.join(holders)}",
            hint=f"name the file: '{holders[0]}:{key}'",
        )
    return (holders[0] if holders else None), key


def evaluate(
    expression: Expression, old: Values, new: Values, *, allow_missing: bool = False
) -> Outcome:
    file, key = locate(expression.key, old, new, expression.text)
    old_value: Any = old.get(file, {}).get(key) if file else None
    new_value: Any = new.get(file, {}).get(key) if file else None

    def outcome(value: float | None, missing: str | None) -> Outcome:
        true = value is not None and OPERATORS[expression.op](value, expression.number)
        return Outcome(
            expression, file, key, old_value, new_value, value, true, missing, allow_missing
        )

    if file is None:
        return outcome(None, f"no metric '{expression.key}' on either side")
    if not _is_number(new_value):
        return outcome(None, f"'{key}' has no numeric new value")
    if expression.function is None:
        return outcome(float(new_value), None)
    if not _is_number(old_value):
        return outcome(None, f"'{key}' has no numeric old value")
    change = float(new_value) - float(old_value)
    if expression.function == "change":
        return outcome(change, None)
    if old_value == 0:
        return outcome(None, f"rel({key}) is undefined: the old value is 0")
    return outcome(change / abs(float(old_value)), None)


def evaluate_all(
    expressions: list[Expression], old: Values, new: Values, *, allow_missing: bool = False
) -> list[Outcome]:
    return [evaluate(e, old, new, allow_missing=allow_missing) for e in expressions]


def passed(outcomes: list[Outcome]) -> bool:
    return not any(o.failed for o in outcomes)
