"""Check kind `metrics`: gates on the workspace's metrics (new) against the baseline's
(old), as `gitml metrics diff BASELINE --fail-if ...` computes them.

    checks:
      metrics:
        fail_if: ["change(auc) < -0.01", "loss > 0.5"]
        allow_missing: false      # optional; --allow-missing on the command line wins
"""

from __future__ import annotations

from typing import Any

from gitml.checks import CheckContext, CheckResult
from gitml.errors import FormatError, UsageError
from gitml.gates import evaluate_all, parse_all, passed

WHERE = "gitml.yaml: checks.metrics"


def run(context: CheckContext, config: Any) -> list[CheckResult]:
    from gitml.pipeline.metrics import metrics_files_at, read_metrics
    from gitml.pipeline.repro_plan import load

    if isinstance(config, list):
        config = {"fail_if": config}
    if not isinstance(config, dict) or not isinstance(config.get("fail_if"), list):
        raise FormatError(f"{WHERE} needs fail_if: a list of gate expressions")
    unknown = set(config) - {"fail_if", "allow_missing"}
    if unknown:
        raise FormatError(f"{WHERE}: unknown key '{sorted(unknown)[0]}'")
    try:
        expressions = parse_all(str(text) for text in config["fail_if"])
    except UsageError as exc:  # in a file, not on the command line: exit 1
        raise FormatError(f"{WHERE}: {exc.message}", hint=exc.hint) from None
    if context.baseline is None:
        raise FormatError(
            f"{WHERE}: no baseline to compare with",
            hint="set checks.baseline in gitml.yaml or pass --baseline REV",
        )
    allow_missing = context.allow_missing or bool(config.get("allow_missing", False))
    pipeline, _ = load(context.workspace)
    files = context.files
    old = read_metrics(files, context.baseline, metrics_files_at(files, context.baseline, pipeline))
    new = read_metrics(files, None, metrics_files_at(files, None, pipeline))
    outcomes = evaluate_all(expressions, old, new, allow_missing=allow_missing)
    return [
        CheckResult(
            kind="metrics",
            target=f"workspace vs {context.baseline}",
            passed=passed(outcomes),
            details={"gates": [o.to_json() for o in outcomes]},
            problems=[o.describe() for o in outcomes if o.failed],
        )
    ]
