"""`metrics show`, `metrics diff` and `params diff`: values of the metrics and params
files the pipeline declares, at git revisions or in the workspace, flattened to dotted
keys, and how they changed. Files are read through gitml.pipeline.revision_files, so a
cached metrics file is read from the cache (or the remote) through gitml.lock at a
revision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitml.errors import GitmlError
from gitml.pipeline import params as params_io
from gitml.pipeline.params import MISSING
from gitml.pipeline.spec import Pipeline

if TYPE_CHECKING:
    from gitml.pipeline.revision_files import RevisionFiles

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


def pipeline_at(files: RevisionFiles, rev: str | None) -> Pipeline | None:
    """gitml.yaml at `rev` (None: the workspace's); None when absent or unreadable there."""
    if rev is not None:
        files.commit(rev)  # an unknown revision is an error, not an unreadable pipeline
    try:
        return files.pipeline(rev)
    except GitmlError:
        return None  # a pipeline this gitml cannot read: the workspace's declarations apply


def metrics_files_at(files: RevisionFiles, rev: str | None, current: Pipeline) -> list[str]:
    """Metrics files `current` declares, then those the pipeline at `rev` declared."""
    declared = metrics_files(current)
    then = pipeline_at(files, rev) if rev is not None else None
    if then is not None:
        declared += [f for f in metrics_files(then) if f not in declared]
    return declared


def params_targets_at(
    files: RevisionFiles, rev: str | None, current: Pipeline
) -> dict[str, set[str] | None]:
    """Params `current` uses, with those the pipeline at `rev` used."""
    targets = params_targets(current)
    then = pipeline_at(files, rev) if rev is not None else None
    for file, keys in (params_targets(then) if then is not None else {}).items():
        if file not in targets:
            targets[file] = keys
        else:
            known = targets[file]
            targets[file] = None if known is None or keys is None else known | keys
    return targets


def read_metrics(files: RevisionFiles, rev: str | None, paths: list[str]) -> Values:
    """{file: {dotted key: value}} of the metrics files that exist at `rev`."""
    values: Values = {}
    for path in paths:
        data = files.load(rev, path)
        if data is not None:
            values[path] = params_io.flatten(data)
    return values


def read_params(
    files: RevisionFiles, rev: str | None, targets: dict[str, set[str] | None]
) -> Values:
    values: Values = {}
    for file, keys in targets.items():
        data = files.load(rev, file)
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
