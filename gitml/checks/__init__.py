"""`gitml check`: run what `checks:` in gitml.yaml declares (SPEC 7.3).

    checks:
      baseline: main                 # the revision gates compare with (--baseline wins)
      metrics:                       # kind "metrics": gitml/checks/metrics.py
        fail_if: ["change(auc) < -0.01", "loss > 0.5"]
      schemas: {...}                 # other kinds plug in the same way
      drift: {...}

How a kind plugs in (one small module, one line here):

1. Write `gitml/checks/<kind>.py` with

       def run(context: CheckContext, config: Any) -> list[CheckResult]:

   `config` is the YAML value under the kind's key, unvalidated: raise
   `gitml.errors.FormatError` naming `gitml.yaml: checks.<key>` when it is malformed.
   Return one CheckResult per target checked (a file, a metrics gate set, ...), with
   `kind` the name users see in the report ("metrics", "schema", "drift"), `target`
   what was checked, `passed`, `details` (JSON-ready, merged into the report entry) and
   `problems` (one line each for the human output, why it failed).
2. Add `"<key>": "gitml.checks.<kind>"` to `KINDS` below. Modules are imported only when
   their key is present, so a kind may import heavy libraries at module level.

`context.baseline` is the baseline revision as typed (None when neither `--baseline` nor
`checks.baseline` is given: a kind that needs one raises FormatError saying so);
`context.files` reads any file at any revision (gitml.pipeline.revision_files), the
workspace with rev None.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import FormatError

if TYPE_CHECKING:
    from gitml.pipeline.revision_files import RevisionFiles
    from gitml.workspace import Workspace

# checks: key -> module with `run(context, config)`. Order is the report's order.
KINDS: dict[str, str] = {
    "metrics": "gitml.checks.metrics",
    "schemas": "gitml.checks.schemas",
    "drift": "gitml.checks.drift",
}
BASELINE_KEY = "baseline"


@dataclass
class CheckContext:
    workspace: Workspace
    files: RevisionFiles
    baseline: str | None
    allow_missing: bool = False

    @property
    def root(self) -> Path:
        return self.workspace.root


@dataclass
class CheckResult:
    kind: str
    target: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "passed": self.passed, **self.details}


def declared(root: Path) -> dict[str, Any]:
    """The `checks:` mapping of the workspace's gitml.yaml ({} when none)."""
    from gitml.pipeline import PIPELINE_FILE
    from gitml.pipeline.params import load

    data = load(root, PIPELINE_FILE) or {}
    checks = data.get("checks") or {}
    if not isinstance(checks, dict):
        raise FormatError(f"{PIPELINE_FILE}: 'checks' must be a mapping")
    unknown = [k for k in checks if k != BASELINE_KEY and k not in KINDS]
    if unknown:
        known = ", ".join([BASELINE_KEY, *KINDS])
        raise FormatError(f"{PIPELINE_FILE}: unknown key 'checks.{unknown[0]}' (known: {known})")
    baseline = checks.get(BASELINE_KEY)
    if baseline is not None and not isinstance(baseline, str | int):
        raise FormatError(f"{PIPELINE_FILE}: 'checks.baseline' must be a revision")
    return checks


def run_checks(
    ws: Workspace, *, baseline: str | None = None, allow_missing: bool = False
) -> list[CheckResult]:
    from gitml.pipeline.revision_files import RevisionFiles

    checks = declared(ws.root)
    if baseline is None and checks.get(BASELINE_KEY) is not None:
        baseline = str(checks[BASELINE_KEY])
    results: list[CheckResult] = []
    with RevisionFiles(ws) as files:
        context = CheckContext(ws, files, baseline, allow_missing)
        for key, module_name in KINDS.items():
            if key in checks:
                module = importlib.import_module(module_name)
                results.extend(module.run(context, checks[key]))
    return results


def report(results: list[CheckResult], baseline: str | None) -> dict[str, Any]:
    return {
        "passed": all(r.passed for r in results),
        "baseline": baseline,
        "checks": [r.to_json() for r in results],
    }
