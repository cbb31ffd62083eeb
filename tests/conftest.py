"""Shared fixtures: real git repositories and the installed `gitml` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# Servers the integration and CLI tests start themselves (S3, Azure, GCS, SSH, HTTP).
from tests.backend_servers import azurite, gcs_emulator, http_server, s3rver, s3rver_env, ssh_server
from tests.s3_endpoint import s3_bucket, s3_endpoint

__all__ = [
    "azurite",
    "gcs_emulator",
    "http_server",
    "s3_bucket",
    "s3_endpoint",
    "s3rver",
    "s3rver_env",
    "ssh_server",
]

GITML = shutil.which("gitml", path=str(Path(sys.executable).parent)) or shutil.which("gitml")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_gitml(
    *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> Result:
    assert GITML, "the gitml command is not installed (pip install -e .)"
    full_env = {**os.environ, "CI": "1", **(env or {})}
    proc = subprocess.run(
        [GITML, *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=300
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"gitml {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return result


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", cwd=path)
    git("config", "user.email", "test@example.com", cwd=path)
    git("config", "user.name", "Test", cwd=path)
    git("config", "commit.gpgsign", "false", cwd=path)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with `gitml init` run in it."""
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    return root


@pytest.fixture
def gitml() -> Callable[..., Result]:
    return run_gitml


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path
