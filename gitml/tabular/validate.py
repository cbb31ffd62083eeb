"""Checking a dataset against a schema, batch by batch with pyarrow.compute, and
inferring a schema from data. Memory is one batch plus the `unique` counters (which
spill to disk past their budget, see gitml.tabular.unique)."""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.errors import SchemaError
from gitml.tabular.read import Dataset
from gitml.tabular.schema import ColumnRule, Schema
from gitml.tabular.unique import DuplicateCounter


@dataclass
class Violation:
    column: str | None  # None for table-wide checks (rows)
    check: str
    expected: str
    bad_rows: int
    example: Any = None
    row: int | None = None  # the example's row number (0-based, across files)

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": self.check,
            "expected": self.expected,
            "bad_rows": self.bad_rows,
            "example": _json_value(self.example),
            "row": self.row,
        }


@dataclass
class Report:
    target: str
    schema: str
    rows: int
    violations: list[Violation]

    @property
    def passed(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "schema": self.schema,
            "passed": self.passed,
            "rows": self.rows,
            "violations": [v.to_json() for v in self.violations],
        }


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def type_name(arrow_type: Any) -> str:
    """The schema name of an Arrow type (docs/spec/schema.md)."""
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return type_name(arrow_type.value_type)
    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_integer(arrow_type):
        return str(arrow_type)
    if t.is_floating(arrow_type):
        return {"halffloat": "float16", "float": "float32"}.get(str(arrow_type), "float64")
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or _is_view(arrow_type, "string"):
        return "string"
    if (
        t.is_binary(arrow_type)
        or t.is_large_binary(arrow_type)
        or t.is_fixed_size_binary(arrow_type)
    ):
        return "binary"
    if t.is_date(arrow_type):
        return "date"
    if t.is_timestamp(arrow_type):
        return "timestamp"
    if t.is_decimal(arrow_type):
        return "decimal"
    return str(arrow_type)


def _is_view(arrow_type: Any, kind: str) -> bool:
    return str(arrow_type) == f"{kind}_view"


def type_matches(wanted: str, arrow_type: Any) -> bool:
    found = type_name(arrow_type)
    if wanted == "int":
        return found.startswith(("int", "uint"))
    if wanted == "float":
        return found.startswith("float")
    if wanted == "number":
        return found.startswith(("int", "uint", "float")) or found == "decimal"
    return found == wanted


class _Tally:
    """Bad-row counts and the first example of each (column, check)."""

    def __init__(self) -> None:
        self.found: dict[tuple[str | None, str], Violation] = {}

    def add_mask(
        self, column: str, check: str, expected: str, mask: Any, values: Any, offset: int
    ) -> None:
        import pyarrow.compute as pc

        mask = pc.fill_null(mask, False)
        bad = pc.sum(mask).as_py() or 0
        if not bad:
            return
        key = (column, check)
        violation = self.found.get(key)
        if violation is None:
            index = pc.index(mask, True).as_py()
            self.found[key] = Violation(
                column, check, expected, bad, values[index].as_py(), offset + index
            )
        else:
            violation.bad_rows += bad

    def add(self, violation: Violation) -> None:
        self.found[(violation.column, violation.check)] = violation


class _ColumnState:
    def __init__(self, rule: ColumnRule, tmp_dir: Path | None) -> None:
        self.rule = rule
        self.nulls = 0
        self.first_null: int | None = None
        self.duplicates = DuplicateCounter(tmp_dir) if rule.unique else None
        self.value_checks = True


def _scalar(value: Any, arrow_type: Any, rule: ColumnRule, what: str) -> Any:
    import pyarrow as pa

    try:
        return pa.scalar(value).cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise SchemaError(
            f"column {rule.name}: {what} {value!r} cannot be compared with"
            f" {type_name(arrow_type)} values"
        ) from None


def _check_values(state: _ColumnState, values: Any, offset: int, tally: _Tally) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    rule = state.rule
    if values.null_count:
        if state.first_null is None:
            state.first_null = offset + pc.index(values.is_null(), True).as_py()
        state.nulls += values.null_count
    if not state.value_checks:
        return
    if rule.min is not None:
        low = _scalar(rule.min, values.type, rule, "min")
        tally.add_mask(rule.name, "min", f">= {rule.min}", pc.less(values, low), values, offset)
    if rule.max is not None:
        high = _scalar(rule.max, values.type, rule, "max")
        tally.add_mask(rule.name, "max", f"<= {rule.max}", pc.greater(values, high), values, offset)
    if rule.allowed is not None:
        try:
            allowed = pa.array(list(rule.allowed)).cast(values.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise SchemaError(
                f"column {rule.name}: allowed values do not match its"
                f" {type_name(values.type)} values"
            ) from None
        outside = pc.and_(pc.invert(pc.is_in(values, value_set=allowed)), pc.is_valid(values))
        shown = ", ".join(map(str, rule.allowed))
        tally.add_mask(rule.name, "allowed", f"one of [{shown}]", outside, values, offset)
    if rule.regex is not None:
        text = values if type_name(values.type) == "string" else values.cast(pa.string())
        misses = pc.invert(pc.match_substring_regex(text, rule.regex))
        tally.add_mask(rule.name, "regex", f"matches {rule.regex}", misses, values, offset)
    if state.duplicates is not None:
        state.duplicates.add(values.drop_null() if values.null_count else values)


def validate(dataset: Dataset, schema: Schema, tmp_dir: Path | None = None) -> Report:
    """Every violation of `schema` in `dataset`, in one pass over its rows."""
    tally = _Tally()
    data_schema = dataset.schema
    present = [name for name in schema.columns if data_schema.get_field_index(name) >= 0]
    states = {name: _ColumnState(schema.columns[name], tmp_dir) for name in present}
    for name in schema.columns:
        if name not in states:
            tally.add(Violation(name, "present", "column present", 0))
    if not schema.extra_columns:
        for field in data_schema:
            if field.name not in schema.columns:
                tally.add(Violation(field.name, "extra_columns", "only the schema's columns", 0))
    for name, state in states.items():
        wanted = state.rule.type
        found = data_schema.field(name).type
        if wanted is not None and not type_matches(wanted, found):
            state.value_checks = False
            tally.add(Violation(name, "type", wanted, 0, type_name(found)))
    rows = 0
    try:
        for batch in dataset.batches(present or None):
            for name, state in states.items():
                _check_values(state, batch.column(name), rows, tally)
            rows += batch.num_rows
        if not present:
            rows = sum(b.num_rows for b in dataset.batches())
    finally:
        for state in states.values():
            if state.duplicates is not None and not state.value_checks:
                state.duplicates.close()
    _finish(schema, states, rows, tally)
    return Report(dataset.label, schema.source, rows, list(tally.found.values()))


def _finish(schema: Schema, states: dict[str, _ColumnState], rows: int, tally: _Tally) -> None:
    for violation in tally.found.values():
        if violation.check in ("present", "extra_columns") or violation.check == "type":
            violation.bad_rows = rows
    if schema.rows_min is not None and rows < schema.rows_min:
        tally.add(Violation(None, "rows", f">= {schema.rows_min} rows", rows, rows))
    if schema.rows_max is not None and rows > schema.rows_max:
        tally.add(Violation(None, "rows", f"<= {schema.rows_max} rows", rows, rows))
    for name, state in states.items():
        rule = state.rule
        if not rule.nullable and state.nulls:
            tally.add(Violation(name, "nullable", "no nulls", state.nulls, None, state.first_null))
        if (
            rule.max_null_fraction is not None
            and rows
            and state.nulls / rows > rule.max_null_fraction
        ):
            tally.add(
                Violation(
                    name,
                    "max_null_fraction",
                    f"<= {rule.max_null_fraction}",
                    state.nulls,
                    round(state.nulls / rows, 6),
                    state.first_null,
                )
            )
        if state.duplicates is not None and state.value_checks:
            repeated, example = state.duplicates.finish()
            if repeated:
                tally.add(Violation(name, "unique", "no repeated values", repeated, example))


def infer(dataset: Dataset) -> dict[str, Any]:
    """A schema document (types, nullability, min/max) that the data passes."""
    import pyarrow.compute as pc

    data_schema = dataset.schema
    nulls = dict.fromkeys(data_schema.names, 0)
    lows: dict[str, Any] = {}
    highs: dict[str, Any] = {}
    ordered = {f.name for f in data_schema if _has_order(f.type)}
    rows = 0
    for batch in dataset.batches():
        rows += batch.num_rows
        for name in data_schema.names:
            values = batch.column(name)
            nulls[name] += values.null_count
            if name in ordered and values.null_count < len(values):
                pair = pc.min_max(values)
                low, high = pair["min"].as_py(), pair["max"].as_py()
                lows[name] = low if name not in lows else min(lows[name], low)
                highs[name] = high if name not in highs else max(highs[name], high)
    columns: dict[str, Any] = {}
    for field in data_schema:
        rule: dict[str, Any] = {"type": type_name(field.type), "nullable": nulls[field.name] > 0}
        if field.name in lows:
            rule["min"] = _json_value(lows[field.name])
            rule["max"] = _json_value(highs[field.name])
        columns[field.name] = rule
    return {"gitml-schema": 1, "rows": {"min": 1}, "extra_columns": False, "columns": columns}


def _has_order(arrow_type: Any) -> bool:
    import pyarrow.types as t

    return bool(
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_date(arrow_type)
        or t.is_timestamp(arrow_type)
        or t.is_decimal(arrow_type)
    )
