"""Check kind `drift`: every `checks.drift` entry (data path -> {rev, against?,
thresholds?, columns?}) fails when any column drifted, as `gitml drift --check` decides
(gitml/tabular/checks.py).

    checks:
      drift:
        data/live.parquet: {rev: main}
"""

from __future__ import annotations

from typing import Any

from gitml.checks import CheckContext, CheckResult
from gitml.errors import FormatError

WHERE = "gitml.yaml: checks.drift"


def run(context: CheckContext, config: Any) -> list[CheckResult]:
    from gitml.tabular.checks import drift_check

    if not isinstance(config, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in config.items()
    ):
        raise FormatError(f"{WHERE} must map data paths to {{rev: REVISION, ...}}")
    results = []
    for target, options in config.items():
        found = drift_check(context.workspace, target, options)
        details = {k: v for k, v in found.items() if k not in ("kind", "target", "passed")}
        drifted = [str(column) for column in found.get("drifted") or []]
        problems = [f"{target}: drifted against {options.get('rev')}: {', '.join(drifted)}"]
        passed = bool(found["passed"])
        results.append(CheckResult("drift", target, passed, details, [] if passed else problems))
    return results
