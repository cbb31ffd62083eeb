"""Where the workspace's `gitml.yaml` files are: asked by every `status`, so no YAML parser."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from gitml import git
from gitml.pipeline import PIPELINE_FILE


def _root_first(files: Iterable[str]) -> list[str]:
    return sorted(set(files), key=lambda f: (f.count("/"), f))


def pipeline_files(root: Path) -> list[str]:
    """Every gitml.yaml in the work tree that git tracks or would track (not ignored)."""
    out = git.run_bytes(
        root,
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
         PIPELINE_FILE, f"*/{PIPELINE_FILE}"],
    )  # fmt: skip
    names = (os.fsdecode(n) for n in out.split(b"\0") if n)
    return _root_first(n for n in names if (root / n).is_file())


def has_pipelines(root: Path) -> bool:
    """Whether the workspace has any gitml.yaml (no git process when the root has one)."""
    return (root / PIPELINE_FILE).exists() or bool(pipeline_files(root))
