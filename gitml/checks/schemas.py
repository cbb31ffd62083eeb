"""Check kind `schema`: every `checks.schemas` entry (data path -> schema file) is
validated as `gitml validate PATH --schema FILE` would (gitml/tabular/checks.py).

    checks:
      schemas:
        data/train.parquet: schemas/train.yaml
"""

from __future__ import annotations

from typing import Any

from gitml.checks import CheckContext, CheckResult
from gitml.errors import FormatError

WHERE = "gitml.yaml: checks.schemas"


def run(context: CheckContext, config: Any) -> list[CheckResult]:
    from gitml.tabular.checks import schema_check

    if not isinstance(config, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in config.items()
    ):
        raise FormatError(f"{WHERE} must map data paths to schema files")
    results = []
    for target, schema in config.items():
        found = schema_check(context.workspace, target, schema)
        details = {k: v for k, v in found.items() if k not in ("kind", "target", "passed")}
        problems = [
            f"{target}: {v.get('column', '')} {v.get('check', '')}: "
            f"{v.get('bad_rows', '')} bad rows"
            for v in found.get("violations", [])
        ]
        results.append(CheckResult("schema", target, bool(found["passed"]), details, problems))
    return results
