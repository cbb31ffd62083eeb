"""What plot files hold: tables (CSV, TSV, JSON, YAML) become rows. The bytes at a
revision come from gitml.pipeline.revision_files (git, a pointer, or gitml.lock and the
cache or the default remote)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from gitml.errors import FormatError
from gitml.plots.definitions import PlotDef

Row = dict[str, Any]
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Revision:
    label: str  # as the user named it, or "workspace"
    commit: str | None  # None: the work tree

    @property
    def name(self) -> str | None:
        """What gitml.pipeline.revision_files reads at (None: the work tree)."""
        return None if self.commit is None else self.label


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _delimited(data: bytes, delimiter: str, header: bool, where: str) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: not a table (not UTF-8 text)") from None
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines = [line for line in reader if line]
    if not lines:
        raise FormatError(f"{where}: not a table (the file is empty)")
    names = lines[0] if header else [str(i) for i in range(len(lines[0]))]
    body = lines[1:] if header else lines
    if len(set(names)) != len(names) or not all(names):
        raise FormatError(f"{where}: not a table (the header row has empty or repeated names)")
    rows = []
    for number, line in enumerate(body[:MAX_ROWS], start=2 if header else 1):
        if len(line) != len(names):
            raise FormatError(
                f"{where}:{number}: not a table ({len(line)} fields, the header has {len(names)})"
            )
        rows.append({n: _number(v) for n, v in zip(names, line, strict=True)})
    return rows


def _records(value: Any, where: str) -> list[Row]:
    """A list of mappings, or a mapping whose one list of mappings is the table (DVC's
    `{"train": [{...}, ...]}`)."""
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            value = lists[0]
    if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
        raise FormatError(f"{where}: not a table (expected a list of records with named fields)")
    return [{str(k): v for k, v in r.items()} for r in value[:MAX_ROWS]]


def parse_table(data: bytes, relpath: str, where: str, header: bool = True) -> list[Row]:
    suffix = relpath.rsplit(".", 1)[-1].lower() if "." in relpath else ""
    if suffix == "csv":
        return _delimited(data, ",", header, where)
    if suffix == "tsv":
        return _delimited(data, "\t", header, where)
    if suffix == "json":
        try:
            return _records(json.loads(data), where)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FormatError(f"{where}: not a table (invalid JSON: {exc})") from None
    if suffix in ("yaml", "yml"):
        from gitml.pipeline.yamlio import load_yaml

        return _records(load_yaml(data, where), where)
    raise FormatError(f"{where}: not a table (use .csv, .tsv, .json or .yaml)")


def fields_of(plot: PlotDef, rows: list[Row], where: str) -> tuple[str | None, tuple[str, ...]]:
    """(x field or None for the row number, y fields), each checked against the rows."""
    names = list(rows[0])
    available = ", ".join(names)
    for name in [plot.x, *plot.y]:
        if name is not None and not any(name in r for r in rows):
            raise FormatError(f"{where}: no field '{name}' (fields: {available})")
    ys = plot.y or (names[-1],)
    return plot.x, ys
