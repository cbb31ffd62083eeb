"""The schema file of SPEC 7.5 (docs/spec/schema.md): parsed strictly, one error per file.

gitml-schema: 1
rows: {min: 1}
extra_columns: false
columns:
  id:  {type: int64, nullable: false, unique: true}
  age: {type: int64, min: 0, max: 130}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import SchemaError

# Exact types, and the families that accept any width of their kind.
TYPES = (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "bool", "string", "binary", "date", "timestamp",
    "decimal", "int", "float", "number",
)  # fmt: skip
_COLUMN_KEYS = {"type", "nullable", "unique", "min", "max", "allowed", "regex", "max_null_fraction"}
_TOP_KEYS = {"gitml-schema", "rows", "extra_columns", "columns"}


@dataclass(frozen=True)
class ColumnRule:
    name: str
    type: str | None = None
    nullable: bool = True
    unique: bool = False
    min: Any = None
    max: Any = None
    allowed: tuple[Any, ...] | None = None
    regex: str | None = None
    max_null_fraction: float | None = None


@dataclass(frozen=True)
class Schema:
    columns: dict[str, ColumnRule]
    rows_min: int | None = None
    rows_max: int | None = None
    extra_columns: bool = True
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def load_schema(path: Path, shown: str | None = None) -> Schema:
    where = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"schema {where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"schema {where}: cannot read ({exc})") from None
    return parse_schema(text, where)


def parse_schema(text: str, where: str) -> Schema:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise SchemaError(f"schema {where}: not valid YAML{at}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"schema {where}: expected a mapping with 'gitml-schema: 1'")
    if data.get("gitml-schema") != 1:
        raise SchemaError(f"schema {where}: 'gitml-schema: 1' is missing (or another version)")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise SchemaError(f"schema {where}: unknown key {unknown[0]!r}")
    rows_min, rows_max = _rows(data.get("rows"), where)
    extra = data.get("extra_columns", True)
    if not isinstance(extra, bool):
        raise SchemaError(f"schema {where}: extra_columns must be true or false")
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise SchemaError(f"schema {where}: columns must be a mapping of column name to rules")
    rules = {str(name): _column(str(name), spec, where) for name, spec in columns.items()}
    return Schema(rules, rows_min, rows_max, extra, where, data)


def _count(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(f"schema {where}: {what} must be a whole number >= 0")
    return value


def _rows(rows: Any, where: str) -> tuple[int | None, int | None]:
    if rows is None:
        return None, None
    if not isinstance(rows, dict) or set(map(str, rows)) - {"min", "max"}:
        raise SchemaError(f"schema {where}: rows must be {{min: N, max: N}}")
    low = None if rows.get("min") is None else _count(rows["min"], "rows.min", where)
    high = None if rows.get("max") is None else _count(rows["max"], "rows.max", where)
    return low, high


def _column(name: str, spec: Any, where: str) -> ColumnRule:
    at = f"schema {where}: column {name}"
    if spec is None:
        return ColumnRule(name)
    if not isinstance(spec, dict):
        raise SchemaError(f"{at}: expected a mapping of rules")
    unknown = sorted(set(map(str, spec)) - _COLUMN_KEYS)
    if unknown:
        raise SchemaError(f"{at}: unknown rule {unknown[0]!r}")
    type_name = spec.get("type")
    if type_name is not None and type_name not in TYPES:
        raise SchemaError(f"{at}: unknown type {type_name!r} (known: {', '.join(TYPES)})")
    for flag in ("nullable", "unique"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise SchemaError(f"{at}: {flag} must be true or false")
    allowed = spec.get("allowed")
    if allowed is not None and not isinstance(allowed, list):
        raise SchemaError(f"{at}: allowed must be a list of values")
    regex = spec.get("regex")
    if regex is not None:
        import re

        try:
            re.compile(str(regex))
        except re.error as exc:
            raise SchemaError(f"{at}: regex does not compile ({exc})") from None
    fraction = spec.get("max_null_fraction")
    if fraction is not None and (
        isinstance(fraction, bool)
        or not isinstance(fraction, int | float)
        or not 0 <= fraction <= 1
    ):
        raise SchemaError(f"{at}: max_null_fraction must be a number from 0 to 1")
    for bound in ("min", "max"):
        value = spec.get(bound)
        if value is not None and (isinstance(value, (bool, list | dict))):
            raise SchemaError(f"{at}: {bound} must be a number, a date or a string")
    return ColumnRule(
        name,
        type_name,
        spec.get("nullable", True),
        spec.get("unique", False),
        spec.get("min"),
        spec.get("max"),
        tuple(allowed) if allowed is not None else None,
        None if regex is None else str(regex),
        None if fraction is None else float(fraction),
    )
