"""Params and metrics files (YAML, JSON, TOML): parse, look up dotted keys, flatten.

Also reads them as they were at a git revision (`git show REV:path`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gitml import git
from gitml.datafiles import load_json, load_toml, load_yaml, read_bytes
from gitml.errors import FormatError

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


def file_format(relpath: str) -> str:
    suffix = relpath[relpath.rfind(".") :].lower() if "." in relpath.rsplit("/", 1)[-1] else ""
    fmt = _FORMATS.get(suffix)
    if suffix == ".py":
        raise FormatError(
            f"{relpath}: Python params files (DVC's params.py) are not supported; "
            "move the values to params.yaml, .json or .toml"
        )
    if fmt is None:
        raise FormatError(
            f"{relpath}: unsupported params/metrics format (use .yaml, .json or .toml)"
        )
    return fmt


def parse(data: bytes, relpath: str) -> dict[str, Any]:
    """Parse a params or metrics file; its top level must be a mapping."""
    fmt = file_format(relpath)
    if fmt == "yaml":
        value = load_yaml(data, relpath)
        if value is None:
            value = {}
    elif fmt == "json":
        value = load_json(data, relpath)
    else:
        value = load_toml(data, relpath)
    if not isinstance(value, dict):
        raise FormatError(f"{relpath}: the top level must be a mapping of keys to values")
    return value


def load(root: Path, relpath: str) -> dict[str, Any] | None:
    """The parsed file in the workspace, or None if it does not exist."""
    try:
        data = read_bytes(root / relpath, relpath)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise FormatError(f"{relpath}: is a directory, not a params or metrics file") from None
    return parse(data, relpath)


def load_at(root: Path, rev: str | None, relpath: str) -> dict[str, Any] | None:
    """The parsed file at git revision `rev` (None: the workspace); None if absent there."""
    if rev is None:
        return load(root, relpath)
    data = git.show_file(root, rev, relpath)
    return None if data is None else parse(data, f"{rev}:{relpath}")


def lookup(data: Mapping[str, Any], key: str) -> Any:
    """Value of a dotted key (`train.lr`, list items as `layers.0`), or MISSING."""
    if key in data:
        return data[key]
    node: Any = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists and scalars stay values."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def canonical(value: Any) -> str:
    """A string that is equal exactly when two param values are equal in type and value."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_change(old: Any, new: Any) -> float | int | None:
    if is_number(old) and is_number(new):
        change: float | int = new - old
        if isinstance(change, float):
            # 0.3 - 0.1 is 0.19999999999999998 in binary; show what a person would compute.
            return float(f"{change:.12g}") if math.isfinite(change) else None
        return change
    return None


def iter_selected(
    data: Mapping[str, Any], keys: tuple[str, ...] | None
) -> Iterator[tuple[str, Any]]:
    """(key, value) of the selected keys (all top-level keys when `keys` is None)."""
    if keys is None:
        yield from data.items()
        return
    for key in keys:
        yield key, lookup(data, key)
