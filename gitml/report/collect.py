"""What a report shows, read from git and the cache only (no server):

- experiments: the work tree, the baseline (HEAD) and its experiments as `gitml exp
  show` records them (SPEC 7.2), with their params and metrics;
- metric history: each metric of the last N first-parent commits of HEAD;
- registry: the version each model's stages hold, from GTO-format git tags (7.4);
- checks: a `gitml check --json` document the caller saved (7.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import git
from gitml.errors import FormatError, GitmlError
from gitml.pipeline import params as params_io
from gitml.pipeline.revision_files import RevisionFiles
from gitml.pipeline.spec import Pipeline
from gitml.workspace import Workspace


@dataclass
class Run:
    """One row of the experiments table."""

    name: str
    rev: str
    params: dict[str, Any]  # "file:key" -> value
    metrics: dict[str, Any]
    state: str = "success"  # as `gitml exp show` says: queued, running, success, failed


@dataclass
class Point:
    commit: str
    subject: str
    metrics: dict[str, Any]  # "file:key" -> value


@dataclass
class StageAssignment:
    model: str
    stage: str
    version: str | None
    commit: str


@dataclass
class Report:
    runs: list[Run] = field(default_factory=list)
    history: list[Point] = field(default_factory=list)  # oldest first
    registry: list[StageAssignment] = field(default_factory=list)
    checks: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "experiments": [r.__dict__ for r in self.runs],
            "history": [p.__dict__ for p in self.history],
            "registry": [a.__dict__ for a in self.registry],
            "checks": self.checks,
        }


def _flat(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {f"{file}:{key}": v for file, keys in values.items() for key, v in keys.items()}


class _Reader:
    """Params and metrics of the pipeline declared at each revision, through
    gitml.pipeline.revision_files (git, pointers, gitml.lock + cache or remote)."""

    def __init__(self, files: RevisionFiles) -> None:
        self.files = files

    def run(self, name: str, rev: str | None) -> Run:
        from gitml.pipeline import metrics

        pipeline = metrics.pipeline_at(self.files, rev)
        if pipeline is None:
            return Run(name, rev or "workspace", {}, {})
        params = metrics.read_params(self.files, rev, metrics.params_targets(pipeline))
        return Run(name, rev or "workspace", _flat(params), self.metrics(rev, pipeline))

    def metrics(self, rev: str | None, pipeline: Pipeline | None = None) -> dict[str, Any]:
        from gitml.pipeline import metrics

        pipeline = pipeline or metrics.pipeline_at(self.files, rev)
        if pipeline is None:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for path in metrics.metrics_files(pipeline):
            try:
                data = self.files.load(rev, path)
            except GitmlError:
                continue  # a report shows what it can read
            if data is not None:
                found[path] = params_io.flatten(data)
        return _flat(found)


def experiment_runs(ws: Workspace) -> list[Run]:
    """The baseline (HEAD) and each experiment of it, as `gitml exp show` records them."""
    if git.head_commit(ws.root) is None:
        return []
    from gitml.exp.show import collect as exp_show

    doc = exp_show(ws, all_baselines=False)
    rows = [doc["baseline"], *doc["experiments"]]
    return [
        Run(
            str(row["name"]),
            str(row["rev"]),
            _flat(row.get("params") or {}),
            _flat(row.get("metrics") or {}),
            str(row.get("state") or ""),
        )
        for row in rows
    ]


def registry(root: Path) -> list[StageAssignment]:
    """The version each (model, stage) holds now, as `gitml model show` reads the tags
    (gitml.registry.state); empty stages are left out."""
    from gitml.registry.state import read

    assignments = []
    for name, model in sorted(read(root).models.items()):
        for stage, held in sorted(model.stages.items()):
            version = model.versions.get(held) if held is not None else None
            if version is not None:
                label = version.version if version.registered else None
                assignments.append(StageAssignment(name, stage, label, version.commit))
    return assignments


def collect(ws: Workspace, *, commits: int = 10, checks_file: Path | None = None) -> Report:
    report = Report()
    with RevisionFiles(ws) as files:
        reader = _Reader(files)
        report.runs.append(reader.run("workspace", None))
        report.runs += experiment_runs(ws)
        if git.head_commit(ws.root) is not None:
            out = git.run_bytes(
                ws.root, ["log", "--first-parent", f"-{commits}", "--format=%H%x00%s", "HEAD"]
            )
            for line in reversed(out.decode("utf-8", "replace").splitlines()):
                commit, _, subject = line.partition("\0")
                report.history.append(Point(commit, subject, reader.metrics(commit)))
    report.registry = registry(ws.root)
    if checks_file is not None:
        try:
            report.checks = json.loads(checks_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(
                f"{checks_file}: not a 'gitml check --json' document ({exc})"
            ) from None
        if not isinstance(report.checks, dict) or "checks" not in report.checks:
            raise FormatError(f"{checks_file}: not a 'gitml check --json' document (no 'checks')")
    return report


def metric_keys(report: Report) -> list[str]:
    """Numeric metrics seen in the history, in first-seen order."""
    keys: dict[str, None] = {}
    for point in report.history:
        for key, value in point.metrics.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                keys.setdefault(key)
    return list(keys)
