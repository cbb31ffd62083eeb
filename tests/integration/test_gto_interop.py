"""The registry is GTO's: the real `gto` (its own venv, tests/gto_env.py) reads the tags
gitml writes, and gitml reads the tags `gto register` / `gto assign` write."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli.registry_support import loads, make_project, retrain
from tests.conftest import git, run_gitml
from tests.gto_env import gto_command


@pytest.fixture(scope="module")
def gto() -> Path:
    return gto_command()


def run_gto(gto: Path, *args: str, cwd: Path) -> str:
    proc = subprocess.run([str(gto), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"gto {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def gto_show(gto: Path, root: Path) -> dict[str, Any]:
    return json.loads(run_gto(gto, "show", "--json", cwd=root))  # type: ignore[no-any-return]


def gitml_show(root: Path) -> dict[str, Any]:
    doc = loads(run_gitml("model", "show", "--json", cwd=root).stdout)
    assert doc["problems"] == []
    return {m["name"]: m for m in doc["models"]}


def test_gto_reads_gitml_registry(gto: Path, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    run_gitml("model", "register", "churn", cwd=root)
    retrain(root, 0.9, 0.2)
    run_gitml("model", "register", "churn", cwd=root)
    run_gitml("model", "promote", "churn", "v0.0.1", "--to", "staging", cwd=root)
    run_gitml("model", "promote", "churn", "v0.0.2", "--to", "prod", cwd=root)
    run_gitml("model", "promote", "churn", "v0.0.2", "--to", "staging", cwd=root)
    shown = gto_show(gto, root)
    assert shown["churn"]["version"] == "v0.0.2"
    assert shown["churn"]["stage"] == {"prod": "v0.0.2", "staging": "v0.0.2"}
    # a rollback: the older version goes back to prod, and GTO agrees
    run_gitml("model", "promote", "churn", "v0.0.1", "--to", "prod", cwd=root)
    assert gto_show(gto, root)["churn"]["stage"] == {"prod": "v0.0.1", "staging": "v0.0.2"}
    run_gitml("model", "demote", "churn", "--from", "prod", cwd=root)
    assert gto_show(gto, root)["churn"]["stage"] == {"staging": "v0.0.2"}
    versions = json.loads(run_gto(gto, "show", "churn", "--json", cwd=root))
    assert sorted(v["version"] for v in versions) == ["v0.0.1", "v0.0.2"]


def test_gitml_reads_gto_registry(gto: Path, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    first = git("rev-parse", "HEAD", cwd=root).strip()
    run_gto(gto, "register", "churn", "HEAD", "--version", "v1.0.0", cwd=root)
    retrain(root, 0.9, 0.2)
    run_gto(gto, "register", "churn", "HEAD", "--bump-minor", cwd=root)
    run_gto(gto, "assign", "churn", "--version", "v1.0.0", "--stage", "prod", cwd=root)
    run_gto(gto, "assign", "churn", "--version", "v1.1.0", "--stage", "staging", cwd=root)
    run_gto(gto, "assign", "churn", "--version", "v1.1.0", "--stage", "dev", cwd=root)
    run_gto(gto, "deprecate", "churn", "v1.1.0", "dev", cwd=root)  # GTO's unassign
    model = gitml_show(root)["churn"]
    assert model["latest"] == "v1.1.0"
    assert model["stages"] == {"dev": None, "prod": "v1.0.0", "staging": "v1.1.0"}
    by_version = {v["version"]: v for v in model["versions"]}
    assert by_version["v1.0.0"]["commit"] == first
    assert by_version["v1.0.0"]["path"] == "model.bin"  # from artifacts: in gitml.yaml
    assert by_version["v1.0.0"]["metrics"]["metrics.json"]["auc"] == 0.8
    # gitml acts on GTO's registry: a gated promotion, then the deployment step
    run_gitml(
        "model", "promote", "churn", "v1.1.0", "--to", "prod", "--fail-if", "change(auc) < 0",
        cwd=root,
    )  # fmt: skip
    assert gto_show(gto, root)["churn"]["stage"]["prod"] == "v1.1.0"
    out = tmp_path / "deployed.bin"
    run_gitml("model", "get", "churn#prod", "-o", str(out), cwd=root)
    assert out.read_bytes() == (root / "model.bin").read_bytes()
    run_gto(gto, "deprecate", "churn", cwd=root)
    assert gitml_show(root)["churn"]["deprecated"] is True
