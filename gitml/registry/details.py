"""What `model show` prints: each version with its commit, date, path, content id and
the metrics at its commit, and which version each stage holds.

Facts about a commit (the artifact path in its gitml.yaml, its outputs, its metrics) are
read once per commit through one RevisionFiles (one `git cat-file` process), however
many versions and stages point at it.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from gitml.errors import GitmlError
from gitml.registry.state import Model, Registry, Version

if TYPE_CHECKING:
    from gitml.pipeline.revision_files import RevisionFiles
    from gitml.pipeline.spec import Pipeline
    from gitml.workspace import Workspace


class _CommitFacts:
    def __init__(self, files: RevisionFiles, problems: list[str]) -> None:
        self.files = files
        self.problems = problems
        self._pipelines: dict[str, Pipeline | None] = {}
        self._metrics: dict[str, dict[str, dict[str, Any]] | None] = {}
        self._content: dict[tuple[str, str], dict[str, Any] | None] = {}

    def pipeline(self, commit: str) -> Pipeline | None:
        if commit not in self._pipelines:
            from gitml.pipeline.metrics import pipeline_at

            self._pipelines[commit] = pipeline_at(self.files, commit)
        return self._pipelines[commit]

    def artifact_path(self, commit: str, name: str) -> str | None:
        from gitml.registry.ops import artifact_path

        return artifact_path(self.files.root, commit, name)

    def content(self, commit: str, path: str) -> dict[str, Any] | None:
        key = (commit, path)
        if key not in self._content:
            self._content[key] = self._read_content(commit, path)
        return self._content[key]

    def _read_content(self, commit: str, path: str) -> dict[str, Any] | None:
        from gitml.pipeline.revision_files import FileAbsentError

        try:
            located = self.files.locate(commit, path)
        except FileAbsentError:
            return None
        except GitmlError:  # a directory output: its pointer names the manifest
            from gitml.history import revision_outputs

            output = revision_outputs(self.files.root, commit, self.files.cat).get(path)
            if output is None:
                return None
            p = output.pointer
            return {"content_id": str(p.oid), "size": p.size, "nfiles": p.nfiles}
        if located.oid is None:
            return None  # committed to git, not tracked by gitml
        return {"content_id": str(located.oid), "size": located.size}

    def metrics(self, commit: str) -> dict[str, dict[str, Any]] | None:
        if commit not in self._metrics:
            from gitml.pipeline.metrics import metrics_files, read_metrics

            pipeline = self.pipeline(commit)
            try:
                found = (
                    read_metrics(self.files, commit, metrics_files(pipeline)) if pipeline else {}
                )
            except GitmlError as exc:
                self.problems.append(f"metrics at {commit[:7]}: {exc.message}")
                found = None
            self._metrics[commit] = found
        return self._metrics[commit]


def _iso(timestamp: int) -> str | None:
    if not timestamp:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()


def version_json(facts: _CommitFacts, model: Model, version: Version) -> dict[str, Any]:
    path = version.path or facts.artifact_path(version.commit, model.name)
    content = facts.content(version.commit, path) if path else None
    return {
        "version": version.version,
        "registered": version.registered,
        "commit": version.commit,
        "date": _iso(version.date),
        "author": version.author,
        "tag": version.tag,
        "path": path,
        "content_id": content["content_id"] if content else None,
        "size": content["size"] if content else None,
        "stages": sorted(s for s, held in model.active.items() if version.version in held),
        "metrics": facts.metrics(version.commit),
    }


def show(ws: Workspace, registry: Registry, name: str | None = None) -> dict[str, Any]:
    """The `model show --json` document."""
    from gitml.pipeline.revision_files import RevisionFiles
    from gitml.registry.tags import semver_key

    problems = list(registry.problems)
    models = (
        [registry.models[name]] if name else [registry.models[n] for n in sorted(registry.models)]
    )
    out = []
    with RevisionFiles(ws) as files:
        facts = _CommitFacts(files, problems)
        for model in models:
            registered = sorted(
                (v for v in model.versions.values() if v.registered),
                key=lambda v: semver_key(v.version),
                reverse=True,
            )
            others = [v for v in model.versions.values() if not v.registered]
            latest = model.latest()
            out.append(
                {
                    "name": model.name,
                    "deprecated": model.deprecated,
                    "latest": latest.version if latest else None,
                    "stages": dict(sorted(model.stages.items())),
                    "versions": [version_json(facts, model, v) for v in [*registered, *others]],
                }
            )
    return {"models": out, "problems": problems}
