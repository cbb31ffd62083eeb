"""`exp show` tables: sorting by a param or metric, a rich table on a terminal (params
that differ between rows), Markdown and CSV (every param)."""

from __future__ import annotations

from typing import Any

from gitml.errors import UsageError
from gitml.pipeline.params import MISSING

Row = dict[str, Any]


def _lookup(row: Row, key: str) -> Any:
    """`[FILE:]KEY` among a row's params and metrics; MISSING when absent."""
    file, sep, dotted = key.rpartition(":")
    for section in ("metrics", "params"):
        for name, values in row[section].items():
            if (not sep or name == file) and dotted in values:
                return values[dotted]
    return MISSING


def sort_rows(rows: list[Row], key: str, *, descending: bool) -> list[Row]:
    if not any(_lookup(r, key) is not MISSING for r in rows):
        raise UsageError(f"--sort-by {key!r}: no experiment has such a param or metric")
    present = [r for r in rows if _lookup(r, key) is not MISSING]
    absent = [r for r in rows if _lookup(r, key) is MISSING]

    def sort_key(row: Row) -> tuple[int, Any]:
        value = _lookup(row, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return (1, str(value))
        return (0, value)

    return sorted(present, key=sort_key, reverse=descending) + absent


def _columns(rows: list[Row], section: str, *, only_differing: bool) -> list[tuple[str, str]]:
    keys: dict[tuple[str, str], None] = {}
    for row in rows:
        for file, values in row[section].items():
            keys.update(dict.fromkeys((file, k) for k in values))
    if only_differing and len(rows) > 1:
        from gitml.pipeline.params import canonical

        keys = {
            fk: None
            for fk in keys
            if len({canonical(r[section].get(fk[0], {}).get(fk[1], MISSING)) for r in rows}) > 1
            or section == "metrics"
        }
    return list(keys)


def _label(file: str, key: str, all_keys: list[tuple[str, str]]) -> str:
    return key if sum(1 for _, k in all_keys if k == key) == 1 else f"{file}:{key}"


def table_data(doc: dict[str, Any], *, only_differing: bool) -> tuple[list[str], list[list[str]]]:
    from gitml.pipeline.metrics import show_value

    rows = [doc["baseline"], *doc["experiments"]]
    metric_cols = _columns(rows, "metrics", only_differing=False)
    param_cols = _columns(rows, "params", only_differing=only_differing)
    header = ["Experiment", "State", "Created", "Duration"]
    header += [_label(f, k, metric_cols) for f, k in metric_cols]
    header += [_label(f, k, param_cols) for f, k in param_cols]
    body = []
    for i, row in enumerate(rows):
        duration = row["duration_s"]
        cells = [
            row["name"] if i == 0 else f"├── {row['name']}",
            row["state"],
            str(row["created"] or "-")[:19].replace("T", " "),
            "-" if duration is None else f"{duration:.1f}s",
        ]
        cells += [show_value(row["metrics"].get(f, {}).get(k, MISSING)) for f, k in metric_cols]
        cells += [show_value(row["params"].get(f, {}).get(k, MISSING)) for f, k in param_cols]
        body.append(cells)
    if len(body) > 1:
        body[-1][0] = body[-1][0].replace("├──", "└──")
    return header, body


def render_csv(doc: dict[str, Any]) -> str:
    import csv
    import io

    header, body = table_data(doc, only_differing=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for cells in body:
        writer.writerow([cells[0].removeprefix("├── ").removeprefix("└── "), *cells[1:]])
    return buffer.getvalue()


def render_markdown(doc: dict[str, Any]) -> str:
    from gitml.pipeline.metrics import table

    header, body = table_data(doc, only_differing=True)
    return table(header, body, markdown=True)


def render_rich(doc: dict[str, Any]) -> Any:
    from rich.table import Table

    header, body = table_data(doc, only_differing=True)
    table = Table(show_edge=False, header_style="bold")
    for i, name in enumerate(header):
        table.add_column(name, no_wrap=i == 0, justify="left" if i < 4 else "right")
    for cells in body:
        table.add_row(*cells)
    return table
