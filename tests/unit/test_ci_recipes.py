"""The CI recipes (docs/ci/*.yml, and the workflow in docs/data-checks.md) work as written:
no placeholder to fill in, gitml installed from something that exists (the wheel the
quickstart builds, committed under tools/), on a Python gitml supports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DOCS = Path(__file__).resolve().parents[2] / "docs"
INSTALL = "pip install ./tools/gitml-*.whl"


def _workflows() -> dict[str, Any]:
    found = {p.name: yaml.safe_load(p.read_text()) for p in sorted((DOCS / "ci").glob("*.yml"))}
    blocks = re.findall(r"```yaml\n(.*?)```", (DOCS / "data-checks.md").read_text(), re.S)
    for i, block in enumerate(blocks):
        found[f"data-checks.md#{i}"] = yaml.safe_load(block)
    return found


WORKFLOWS = _workflows()


def _commands(step: Any) -> list[str]:
    if isinstance(step, str):
        return [step]
    if isinstance(step, dict) and isinstance(step.get("run"), str):
        return [step["run"]]
    return []


def test_no_placeholders_in_the_recipes() -> None:
    assert len(WORKFLOWS) >= 7
    for path in [*(DOCS / "ci").glob("*.yml"), DOCS / "data-checks.md", DOCS / "ci.md"]:
        text = path.read_text()
        assert "OWNER" not in text, path
        assert not re.search(r"pip install gitml\b", text), path  # not on the package index


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_job_installs_gitml_from_the_committed_wheel(name: str) -> None:
    workflow = WORKFLOWS[name]
    jobs = workflow.get("jobs") or {k: v for k, v in workflow.items() if isinstance(v, dict)}
    for job_name, job in jobs.items():
        if "steps" in job:  # GitHub Actions
            steps = job["steps"]
        else:  # GitLab CI
            steps = [*job.get("before_script", []), *job.get("script", [])]
        commands = [c for step in steps for c in _commands(step)]
        uses_gitml = any(re.search(r"\bgitml ", c) for c in commands)
        installs = [c for c in commands if "pip install" in c]
        if not uses_gitml:
            continue
        assert installs == [INSTALL], (name, job_name, installs)
        if "steps" in job:
            actions = [s.get("uses", "") for s in steps if isinstance(s, dict)]
            first_install = next(i for i, s in enumerate(steps) if INSTALL in _commands(s))
            setup = [i for i, a in enumerate(actions) if a.startswith("actions/setup-python")]
            assert setup and setup[0] < first_install, (name, job_name)  # gitml needs >= 3.11
        else:
            assert str(job.get("image", "")).startswith("python:3.1"), (name, job_name)
