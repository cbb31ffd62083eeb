"""How stage commands are started: like DVC, through the user's shell."""

from __future__ import annotations

import os
import shutil


def shell_argv(command: str) -> list[str]:
    """Run like DVC: the user's $SHELL (without rc files) or /bin/sh."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    if not shutil.which(shell):
        shell = "/bin/sh"
    options = {"bash": ["--noprofile", "--norc"], "zsh": ["--no-rcs"]}
    return [shell, *options.get(os.path.basename(shell), []), "-c", command]
