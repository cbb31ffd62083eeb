"""`${...}` interpolation in gitml.yaml, with DVC's semantics.

- The context is built from `params.yaml` (if present, always first), then each entry of
  `vars`: a file (`path` or `path:key1,key2`) or an inline mapping. Redefining a value
  from an earlier source is an error.
- `${a.b[0].c}` selects nested keys. A string that is exactly one `${...}` keeps the
  value's type; inside a longer string the value is formatted (booleans as true/false).
  A mapping may be interpolated only into `cmd`, where it becomes `--key value` options.
  `\\${` is a literal `${`.
- Keys read from files are recorded (`tracked`), so `params diff` can show them.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gitml.errors import FormatError

_KEY_RE = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
_PRIMITIVES = (str, int, float, bool)


class InterpolationError(FormatError):
    """Raised without a location; the spec parser adds file, stage and key."""


def to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _dict_to_options(value)
    return str(value)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _dict_to_options(data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, value in _flatten(data):
        if isinstance(value, bool):
            if value:
                parts.append(f"--{key}")
        elif isinstance(value, str):
            parts.append(f"--{key} {shlex.quote(value)}")
        elif isinstance(value, list | tuple):
            items = []
            for item in value:
                if isinstance(item, list | tuple | dict):
                    raise InterpolationError(f"cannot interpolate nested list in '{key}'")
                items.append(shlex.quote(item) if isinstance(item, str) else to_str(item))
            parts.append(" ".join([f"--{key}", *items]) if items else f"--{key}")
        else:
            parts.append(f"--{key} {value}")
    return " ".join(parts)


def parse_expression(inner: str) -> list[str]:
    """`a.b[0].c` -> ['a', 'b', '0', 'c']."""
    normalized = inner.replace("[", ".").replace("]", "")
    parts = normalized.split(".")
    if not inner or any(not p for p in parts) or inner.count("[") != inner.count("]"):
        raise InterpolationError(f"malformed expression '${{{inner}}}'")
    return parts


class Context:
    """Values for interpolation, and which of them came from which file."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._sources: dict[str, str] = {}  # top-level key -> where it was defined
        self._files: list[tuple[str, dict[str, Any]]] = []  # (relpath, data) loaded from files
        self.tracked: dict[str, dict[str, None]] = {}  # file -> used dotted keys (ordered)
        self._reserved: set[str] = set()

    def clone(self) -> Context:
        other = Context()
        other.data = copy.deepcopy(self.data)
        other._sources = dict(self._sources)
        other._files = list(self._files)
        return other

    def merge(self, new: Mapping[str, Any], source: str, *, file: str | None = None) -> None:
        _merge_into(self.data, new, source, self._sources, prefix="")
        for key in new:
            self._sources.setdefault(str(key), source)
        if file is not None:
            self._files.append((file, dict(new)))

    @contextmanager
    def temporarily(self, values: Mapping[str, Any]) -> Iterator[None]:
        saved = {k: self.data[k] for k in values if k in self.data}
        self.data.update(values)
        try:
            yield
        finally:
            for k in values:
                self.data.pop(k, None)
            self.data.update(saved)

    def select(self, inner: str) -> Any:
        parts = parse_expression(inner)
        node: Any = self.data
        for i, part in enumerate(parts):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                missing = ".".join(parts[: i + 1])
                raise InterpolationError(f"'{missing}' is not defined (in '${{{inner}}}')")
        self._track(parts, node)
        return node

    def _track(self, parts: list[str], value: Any) -> None:
        if isinstance(value, dict | list):
            return
        for relpath, data in self._files:
            node: Any = data
            for part in parts:
                if isinstance(node, Mapping) and part in node:
                    node = node[part]
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    break
            else:
                self.tracked.setdefault(relpath, {})[".".join(parts)] = None
                return


def _merge_into(
    into: dict[str, Any], new: Mapping[str, Any], source: str, sources: dict[str, str], prefix: str
) -> None:
    for key, value in new.items():
        key = str(key)
        if key not in into:
            into[key] = copy.deepcopy(value)
            continue
        existing = into[key]
        if isinstance(existing, dict) and isinstance(value, Mapping):
            _merge_into(existing, value, source, sources, prefix + key + ".")
            continue
        where = sources.get((prefix + key).split(".")[0], "an earlier source")
        raise InterpolationError(
            f"cannot redefine '{prefix}{key}' from '{source}': it is already defined in '{where}'"
        )


def _check_value(value: Any, field: str | None) -> None:
    if value is None or isinstance(value, _PRIMITIVES):
        return
    if field is None:  # foreach / matrix data take lists and mappings
        return
    if isinstance(value, dict) and field == "cmd":
        return
    raise InterpolationError(f"cannot interpolate a {type(value).__name__} into '{field}'")


def resolve_str(text: str, ctx: Context, field: str | None) -> Any:
    matches = list(_KEY_RE.finditer(text))
    if len(matches) == 1 and matches[0].group(0) == text:
        value = ctx.select(matches[0].group("inner"))
        _check_value(value, field)
        return value
    out: list[str] = []
    index = 0
    for match in matches:
        value = ctx.select(match.group("inner"))
        _check_value(value, field if field is not None else "string")
        out.append(text[index : match.start()])
        out.append(to_str(value))
        index = match.end()
    out.append(text[index:])
    return "".join(out).replace("\\${", "${")


def resolve(data: Any, ctx: Context, field: str | None) -> Any:
    """Interpolate every string (keys too) in `data`; `field` is the stage key being resolved."""
    if isinstance(data, str):
        return resolve_str(data, ctx, field)
    if isinstance(data, dict):
        resolved: dict[Any, Any] = {}
        for key, value in data.items():
            new_key = resolve_str(key, ctx, field) if isinstance(key, str) else key
            if isinstance(new_key, dict | list):
                raise InterpolationError(f"a mapping key in '{field}' interpolated to a collection")
            resolved[new_key] = resolve(value, ctx, field)
        return resolved
    if isinstance(data, list):
        return [resolve(item, ctx, field) for item in data]
    return data


def has_interpolation(data: Any) -> bool:
    if isinstance(data, str):
        return _KEY_RE.search(data) is not None
    if isinstance(data, dict):
        return any(has_interpolation(k) or has_interpolation(v) for k, v in data.items())
    if isinstance(data, list):
        return any(has_interpolation(item) for item in data)
    return False


def load_vars(
    ctx: Context,
    entries: Any,
    base: str,
    read_file: Callable[[str], dict[str, Any]],
    where: str,
) -> None:
    """Add `vars` entries to `ctx`. Files are relative to `base` (a workspace relpath)."""
    if not isinstance(entries, list):
        raise InterpolationError(f"'{where}' must be a list of files or mappings")
    for index, entry in enumerate(entries):
        if has_interpolation(entry):
            raise InterpolationError(f"'{where}[{index}]': interpolation is not allowed in vars")
        if isinstance(entry, dict):
            ctx.merge(entry, f"{where}[{index}]")
        elif isinstance(entry, str) and entry:
            path, _, keys_text = entry.partition(":")
            relpath = _join(base, path)
            data = read_file(relpath)
            if keys_text:
                selected: dict[str, Any] = {}
                for key in (k.strip() for k in keys_text.split(",")):
                    if key not in data:
                        raise InterpolationError(f"'{where}[{index}]': no key '{key}' in {relpath}")
                    selected[key] = data[key]
                data = selected
            ctx.merge(data, relpath, file=relpath)
        else:
            raise InterpolationError(f"'{where}[{index}]' must be a file name or a mapping")


def _join(base: str, path: str) -> str:
    import posixpath

    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    return joined
