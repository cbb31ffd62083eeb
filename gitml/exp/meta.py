"""Run metadata (SPEC 7.2): when, how long, where, with which gitml, from which commit,
with which params and metrics. It lives in experiment records, in `repro --json` and in
run-cache entries, never in `gitml.lock` (which must not change from run to run)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.pipeline.runmeta import host_meta, now_iso


@dataclass
class RunClock:
    """Started when a run starts; `finish` turns it into the metadata document."""

    root: Path
    started: str = field(default_factory=now_iso)
    host: dict[str, object] = field(default_factory=dict)
    _t0: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.host = host_meta(self.root)

    def elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 3)

    def finish(self, stage_results: list[Any]) -> dict[str, Any]:
        return {
            "started": self.started,
            "duration_s": self.elapsed(),
            **self.host,
            "stages": {
                r.name: {"duration_s": r.duration_s, "outcome": r.outcome}
                for r in stage_results
                if r.duration_s is not None
            },
        }


def pipeline_values(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, metrics) of the workspace's pipeline, file -> dotted key -> value."""
    from gitml.errors import GitmlError
    from gitml.pipeline.metrics import metrics_files, params_targets, read_metrics, read_params
    from gitml.pipeline.project import load_pipelines
    from gitml.pipeline.revision_files import RevisionFiles

    try:
        pipeline = load_pipelines(root)
        if pipeline is None:
            return {}, {}
        all_params: dict[str, set[str] | None] = dict.fromkeys(params_targets(pipeline))
        files = RevisionFiles(root)
        return (
            read_params(files, None, all_params),
            read_metrics(files, None, metrics_files(pipeline)),
        )
    except GitmlError:
        return {}, {}
