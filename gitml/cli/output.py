"""Output helpers shared by every command module."""

from __future__ import annotations

import sys


def print_json(data: object) -> None:
    """The one JSON document a `--json` command prints on stdout."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 file', '2 files' ('1 entry', '3 entries' with `many`)."""
    return f"{n} {word if n == 1 else many or word + 's'}"
