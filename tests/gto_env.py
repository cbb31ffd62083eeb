"""The real GTO (PyPI `gto`), in a virtual environment of its own so its pins never
touch gitml's: `.gitml-test-venvs/gto` at the repository root, made once and reused
(scripts/test.sh makes it before the suite; a test makes it if it is missing)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".gitml-test-venvs" / "gto"
REQUIREMENT = "gto>=1.7,<2"


def gto_command() -> Path:
    """The `gto` executable, installing it first when needed (under a lock: xdist workers
    may ask at once)."""
    gto = VENV / "bin" / "gto"
    if gto.exists():
        return gto
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / ".gto.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not gto.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", REQUIREMENT],
                check=True,
            )  # fmt: skip
    return gto
