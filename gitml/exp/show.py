"""`exp show` and `exp diff`: experiments as rows (SPEC 7.2 JSON shape), and tables.

Every experiment's record (state, times, metadata, params, metrics) comes out of one
`git for-each-ref`; only the baseline is read through its tree (and, for cached metrics,
its gitml.lock and the cache)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml import git
from gitml.errors import ObjectNotFoundError, UsageError
from gitml.exp import refs
from gitml.exp.refs import ExpRef
from gitml.pipeline.params import MISSING, flatten

if TYPE_CHECKING:
    from gitml.workspace import Workspace

Row = dict[str, Any]
_META_KEYS = ("host", "gitml_version", "head", "dirty", "stages")


def _meta(raw: Any) -> dict[str, Any]:
    data = raw if isinstance(raw, dict) else {}
    return {k: data.get(k) for k in _META_KEYS} | {
        "stages": data.get("stages") or {},
    }


def exp_row(exp: ExpRef) -> Row:
    info = exp.info
    row: Row = {
        "name": exp.name,
        "rev": exp.commit,
        "baseline": exp.baseline,
        "state": exp.state,
        "created": info.get("created"),
        "duration_s": info.get("duration_s"),
        "params": info.get("params") or {},
        "metrics": info.get("metrics") or {},
        "meta": _meta(info.get("meta")),
    }
    if info.get("error"):
        row["error"] = info["error"]
    if info.get("stderr_tail"):
        row["stderr_tail"] = info["stderr_tail"]
    return row


def values_at(ws: Workspace, commit: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, metrics) of the pipeline committed at `commit`, read as every revision
    is (gitml.pipeline.revision_files: git, then gitml.lock outs from the cache or the
    remote). A file whose bytes cannot be had is left out of the row, not an error."""
    from gitml.pipeline.metrics import metrics_files, params_targets
    from gitml.pipeline.revision_files import RevisionFiles
    from gitml.pipeline.spec import pipeline_at

    pipeline = pipeline_at(ws.root, commit)
    if pipeline is None:
        return {}, {}
    found: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    wanted = (list(params_targets(pipeline)), metrics_files(pipeline))
    with RevisionFiles(ws) as files:
        for values, paths in zip(found, wanted, strict=True):
            for path in paths:
                try:
                    data = files.load(commit, path)
                except ObjectNotFoundError:
                    continue
                if data is not None:
                    values[path] = flatten(data)
    return found


def baseline_row(ws: Workspace, commit: str) -> Row:
    params, metrics = values_at(ws, commit)
    out = git.run_bytes(ws.root, ["show", "-s", "--format=%cI%x00%D", commit]).decode()
    created, _, decoration = out.strip().partition("\0")
    branch = next(
        (d.removeprefix("HEAD -> ") for d in decoration.split(", ") if d.startswith("HEAD -> ")),
        None,
    )
    return {
        "name": branch or commit[:7],
        "rev": commit,
        "baseline": commit,
        "state": "success",
        "created": created,
        "duration_s": None,
        "params": params,
        "metrics": metrics,
        "meta": {"host": None, "gitml_version": None, "head": commit, "dirty": False, "stages": {}},
    }


def collect(ws: Workspace, *, all_baselines: bool) -> dict[str, Any]:
    head = refs.baseline_of(ws.root)
    exps = refs.list_refs(ws.root, None if all_baselines else head)
    rows = sorted((exp_row(e) for e in exps), key=lambda r: (str(r["created"]), r["name"]))
    return {"baseline": baseline_row(ws, head), "experiments": rows}


# Sorting and tables ------------------------------------------------------------------


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


# diff ---------------------------------------------------------------------------------


def values_of(ws: Workspace, text: str) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """(label, params, metrics, baseline) of an experiment name or a git revision."""
    from gitml.revisions import resolve

    head = git.head_commit(ws.root)
    exp = refs.find(ws.root, text, head)
    if exp is not None and "params" in exp.info:
        return text, exp.info.get("params") or {}, exp.info.get("metrics") or {}, exp.baseline
    commit = resolve(ws.root, text)
    params, metrics = values_at(ws, commit)
    parents = git.run_bytes(ws.root, ["rev-list", "--parents", "-n", "1", commit]).split()
    parent = parents[1].decode() if len(parents) > 1 else commit
    return text, params, metrics, parent


def diff(ws: Workspace, a: str, b: str | None) -> tuple[str, str, list[Any], list[Any]]:
    """Changes of params and metrics from B (default: A's baseline) to A."""
    from gitml.pipeline.metrics import diff as values_diff

    label_a, params_a, metrics_a, base = values_of(ws, a)
    if b is None:
        params_b, metrics_b = values_at(ws, base)
        label_b = base[:7]
    else:
        label_b, params_b, metrics_b, _ = values_of(ws, b)
    return label_b, label_a, values_diff(params_b, params_a), values_diff(metrics_b, metrics_a)
