"""What a report shows, read from git and the cache only (no server):

- experiments: the baseline (the work tree) and each experiment commit under
  `refs/gitml/exps/` whose parent is HEAD (SPEC 7.2), with their params and metrics;
- metric history: each metric of the last N first-parent commits of HEAD;
- registry: the stage each model's version holds, from GTO-format git tags (7.4);
- checks: a `gitml check --json` document the caller saved (7.3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import git
from gitml.errors import FormatError, GitmlError
from gitml.objects import ObjectSource
from gitml.pipeline import params as params_io
from gitml.plots.data import Revision, RevisionFiles

EXPS_NAMESPACE = "refs/gitml/exps/"


@dataclass
class Run:
    """One row of the experiments table."""

    name: str
    rev: str
    params: dict[str, Any]  # "file:key" -> value
    metrics: dict[str, Any]


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
    def __init__(self, root: Path, files: RevisionFiles) -> None:
        self.root = root
        self.files = files

    def values(self, rev: Revision, targets: list[str]) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        for relpath in targets:
            data = self.files.read(rev, relpath)
            if data is None:
                continue
            where = relpath if rev.commit is None else f"{rev.label}:{relpath}"
            try:
                found[relpath] = params_io.flatten(params_io.parse(data, where))
            except FormatError:
                continue  # a report shows what it can read
        return _flat(found)

    def metrics_files(self, rev: Revision) -> list[str]:
        from gitml.pipeline.metrics import metrics_files
        from gitml.pipeline.spec import load_pipeline, pipeline_at

        try:
            pipeline = (
                load_pipeline(self.root)
                if rev.commit is None
                else pipeline_at(self.root, rev.commit)
            )
        except GitmlError:
            return []
        return [] if pipeline is None else metrics_files(pipeline)

    def params(self, rev: Revision) -> dict[str, Any]:
        from gitml.pipeline.metrics import params_targets, read_params
        from gitml.pipeline.revision_files import RevisionFiles as PipelineFiles
        from gitml.pipeline.spec import load_pipeline, pipeline_at

        try:
            pipeline = (
                load_pipeline(self.root)
                if rev.commit is None
                else pipeline_at(self.root, rev.commit)
            )
            if pipeline is None:
                return {}
            files = PipelineFiles(self.root)
            return _flat(read_params(files, rev.commit, params_targets(pipeline)))
        except GitmlError:
            return {}

    def run(self, name: str, rev: Revision) -> Run:
        return Run(
            name,
            rev.commit or "workspace",
            self.params(rev),
            self.values(rev, self.metrics_files(rev)),
        )


def experiments(root: Path) -> list[tuple[str, str]]:
    """(name, commit) of each experiment whose baseline is HEAD."""
    head = git.head_commit(root)
    if head is None:
        return []
    out = git.run_bytes(
        root, ["for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", EXPS_NAMESPACE]
    )
    found = []
    for line in out.decode("utf-8", "replace").splitlines():
        ref, commit, *_ = line.split()
        parents = git.run_bytes(root, ["rev-list", "--parents", "-n", "1", commit]).decode().split()
        if head in parents[1:2]:
            found.append((ref.rsplit("/", 1)[-1], commit))
    return found


_VERSION_TAG = re.compile(r"^(?P<model>[^@#]+)@(?P<version>v\d+\.\d+\.\d+)$")
_STAGE_TAG = re.compile(r"^(?P<model>[^@#]+)#(?P<stage>[^#!]+)(?P<demote>!?)#(?P<n>\d+)$")


def registry(root: Path) -> list[StageAssignment]:
    """The version each (model, stage) holds now: the highest-numbered GTO stage tag wins,
    and a demotion (`NAME#STAGE!#N`) empties the stage."""
    out = git.run_bytes(
        root,
        ["for-each-ref", "--format=%(refname:short) %(objectname) %(*objectname)", "refs/tags"],
    )
    versions: dict[tuple[str, str], str] = {}  # (model, commit) -> newest version
    stage_tags: dict[tuple[str, str], tuple[int, bool, str]] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, commit = parts[0], parts[-1]
        version = _VERSION_TAG.match(name)
        if version:
            key = (version["model"], commit)
            current = versions.get(key)
            if current is None or _semver(version["version"]) > _semver(current):
                versions[key] = version["version"]
            continue
        stage = _STAGE_TAG.match(name)
        if stage:
            key = (stage["model"], stage["stage"])
            number = int(stage["n"])
            if key not in stage_tags or number > stage_tags[key][0]:
                stage_tags[key] = (number, bool(stage["demote"]), commit)
    assignments = [
        StageAssignment(model, stage_name, versions.get((model, commit)), commit)
        for (model, stage_name), (_, demoted, commit) in sorted(stage_tags.items())
        if not demoted
    ]
    return assignments


def _semver(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text[1:].split("."))


def collect(
    root: Path, source: ObjectSource, *, commits: int = 10, checks_file: Path | None = None
) -> Report:
    report = Report()
    with git.CatFile(root) as cat:
        reader = _Reader(root, RevisionFiles(root, cat, source))
        report.runs.append(reader.run("workspace", Revision("workspace", None)))
        for name, commit in experiments(root):
            report.runs.append(reader.run(name, Revision(name, commit)))
        if git.head_commit(root) is not None:
            out = git.run_bytes(
                root, ["log", "--first-parent", f"-{commits}", "--format=%H%x00%s", "HEAD"]
            )
            for line in reversed(out.decode("utf-8", "replace").splitlines()):
                commit, _, subject = line.partition("\0")
                rev = Revision(commit[:8], commit)
                report.history.append(
                    Point(commit, subject, reader.values(rev, reader.metrics_files(rev)))
                )
    report.registry = registry(root)
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
