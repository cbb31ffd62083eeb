"""A stage's `resources:` (cpus, gpus, memory, timeout): what an executor must give it.

Local `repro` ignores them; `repro --executor dask` maps them to Dask worker resources
and the worker enforces `timeout`.
"""

from __future__ import annotations

import re
from typing import Any

from gitml.errors import FormatError
from gitml.pipeline.model import Resources

_KEYS = ("cpus", "gpus", "memory", "timeout")
_MEMORY_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(i?)B?\s*$", re.IGNORECASE)
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise FormatError(f"{where}: must be a positive number")
    return float(value)


def parse_memory(value: Any, where: str) -> int:
    """Bytes from a number of bytes or a size like '512MiB', '4GB', '2G'."""
    if isinstance(value, str):
        match = _MEMORY_RE.match(value)
        if not match or (not match.group(2) and match.group(3)):
            raise FormatError(f"{where}: '{value[:40]}' is not a size like 512MiB or 4GB")
        base = 1024 if match.group(3) else 1000  # as Dask: 4GB and 4G are 4e9, 4GiB is 4 * 2**30
        return int(float(match.group(1)) * base ** _POWERS[match.group(2).upper()])
    return int(_number(value, where))


def parse_duration(value: Any, where: str) -> float:
    """Seconds from a number or a duration like '90s', '30m', '2h'."""
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if not match:
            raise FormatError(f"{where}: '{value[:40]}' is not a duration like 90s, 30m or 2h")
        return float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]
    return _number(value, where)


def parse_resources(data: Any, where: str) -> Resources:
    if data is None:
        return Resources()
    if not isinstance(data, dict):
        raise FormatError(f"{where}: must be a mapping of {', '.join(_KEYS)}")
    for key in data:
        if key not in _KEYS:
            raise FormatError(f"{where}: unknown key '{str(key)[:40]}' (known: {', '.join(_KEYS)})")
    return Resources(
        cpus=None if data.get("cpus") is None else _number(data["cpus"], f"{where}: cpus"),
        gpus=None if data.get("gpus") is None else _number(data["gpus"], f"{where}: gpus"),
        memory=None
        if data.get("memory") is None
        else parse_memory(data["memory"], f"{where}: memory"),
        timeout=None
        if data.get("timeout") is None
        else parse_duration(data["timeout"], f"{where}: timeout"),
    )
