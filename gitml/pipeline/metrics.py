"""`metrics show`, `metrics diff` and `params diff`: values of the metrics and params
files the pipeline declares, at git revisions or in the workspace, flattened to dotted
keys, and how they changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.pipeline import params as params_io
from gitml.pipeline.params import MISSING
from gitml.pipeline.spec import Pipeline

Values = dict[str, dict[str, Any]]  # file -> dotted key -> value


def metrics_files(pipeline: Pipeline) -> list[str]:
    files = [o.path for s in pipeline.stages.values() for o in s.outs if o.kind == "metrics"]
    return list(dict.fromkeys([*files, *pipeline.metrics]))


def params_targets(pipeline: Pipeline) -> dict[str, set[str] | None]:
    """file -> keys the stages use (None: the whole file), including ${...} uses."""
    targets: dict[str, set[str] | None] = {f: None for f in pipeline.params_files}
    for stage in pipeline.stages.values():
        for spec in (*stage.params, *stage.tracked_vars):
            if spec.keys is None:
                targets[spec.file] = None
            elif targets.get(spec.file, set()) is not None:
                current = targets.setdefault(spec.file, set())
                assert current is not None
                current.update(spec.keys)
    return targets


def read_metrics(root: Path, rev: str | None, files: list[str]) -> Values:
    values: Values = {}
    for file in files:
        data = params_io.load_at(root, rev, file)
        if data is not None:
            values[file] = params_io.flatten(data)
    return values


def read_params(root: Path, rev: str | None, targets: dict[str, set[str] | None]) -> Values:
    values: Values = {}
    for file, keys in targets.items():
        data = params_io.load_at(root, rev, file)
        if data is None:
            continue
        if keys is None:
            values[file] = params_io.flatten(data)
            continue
        flat: dict[str, Any] = {}
        for key in sorted(keys):
            value = params_io.lookup(data, key)
            if value is MISSING:
                continue
            if isinstance(value, dict) and value:
                flat.update(params_io.flatten(value, key + "."))
            else:
                flat[key] = value
        values[file] = flat
    return values


@dataclass(frozen=True)
class Change:
    file: str
    key: str
    old: Any  # MISSING when absent
    new: Any

    @property
    def changed(self) -> bool:
        if self.old is MISSING or self.new is MISSING:
            return self.old is not self.new
        return params_io.canonical(self.old) != params_io.canonical(self.new)

    @property
    def diff(self) -> Any:
        if self.old is MISSING or self.new is MISSING:
            return None
        return params_io.numeric_change(self.old, self.new)


def diff(old: Values, new: Values, *, include_unchanged: bool = False) -> list[Change]:
    changes = []
    for file in sorted(set(old) | set(new)):
        before, after = old.get(file, {}), new.get(file, {})
        for key in sorted(set(before) | set(after)):
            change = Change(file, key, before.get(key, MISSING), after.get(key, MISSING))
            if include_unchanged or change.changed:
                changes.append(change)
    return changes


def diff_json(changes: list[Change]) -> dict[str, dict[str, dict[str, Any]]]:
    data: dict[str, dict[str, dict[str, Any]]] = {}
    for c in changes:
        entry: dict[str, Any] = {
            "old": None if c.old is MISSING else c.old,
            "new": None if c.new is MISSING else c.new,
        }
        if c.diff is not None:
            entry["diff"] = c.diff
        data.setdefault(c.file, {})[c.key] = entry
    return data


def show_value(value: Any) -> str:
    if value is MISSING or value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return params_io.canonical(value)


def show_change(change: Change) -> str:
    d = change.diff
    if d is None:
        return "-" if change.changed else "0"
    if isinstance(d, float):
        return f"{d:+.6g}"
    return f"{d:+d}"


def table(header: list[str], rows: list[list[str]], *, markdown: bool) -> str:
    if markdown:

        def md(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        lines = [md(header), "|" + "|".join("---" for _ in header) + "|"]
        return "\n".join(lines + [md(r) for r in rows])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )
