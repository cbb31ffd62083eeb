"""`-S [FILE:]KEY=VALUE`: parse param overrides, form grids, edit params files in place.

Values are typed as YAML by gitml's one YAML reader (so `-S lr=0.1` is the float that
`gitml repro` will read back). Files are edited round-trip so comments and layout stay:
YAML with ruamel.yaml, TOML with tomlkit, JSON with its detected indentation.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.errors import FormatError, GitmlError, UsageError
from gitml.fsutil import atomic_write_bytes
from gitml.pipeline.model import DEFAULT_PARAMS_FILE
from gitml.pipeline.params import canonical, file_format
from gitml.pipeline.yamlio import load_yaml

_KEY = re.compile(r"^[^\s=,:\[\]{}]+$")
_ONE_VALUE_STARTS = ("[", "{", '"', "'")


@dataclass(frozen=True)
class Override:
    """One `-S`: a key of a params file and the values it takes (several form a grid)."""

    file: str
    key: str
    values: tuple[Any, ...]
    add: bool = False

    @property
    def label(self) -> str:
        return f"{self.file}:{self.key}"


@dataclass(frozen=True)
class Assignment:
    file: str
    key: str
    value: Any
    add: bool = False


def _typed(text: str, where: str) -> Any:
    if text == "":
        return ""
    try:
        return load_yaml(text, where)
    except FormatError as exc:
        raise UsageError(f"-S {where}: value is not valid YAML ({exc.message})") from None


def parse_override(text: str) -> Override:
    """`[+][FILE:][+]KEY=VALUE[,VALUE...]`; UsageError (exit 2) when malformed."""
    left, sep, right = text.partition("=")
    add = False
    if left.startswith("+"):
        add, left = True, left[1:]
    file, colon, key = left.rpartition(":")
    if not colon:
        file, key = DEFAULT_PARAMS_FILE, left
    if key.startswith("+"):
        add, key = True, key[1:]
    if not sep or not key or not file or not _KEY.match(key) or ".." in key:
        raise UsageError(
            f"malformed -S {text!r}: expected [FILE:]KEY=VALUE (or +KEY=VALUE to add a key)"
        )
    try:
        file_format(file)
    except FormatError as exc:
        raise UsageError(f"malformed -S {text!r}: {exc.message}") from None
    where = f"{file}:{key}"
    if right.startswith(_ONE_VALUE_STARTS):
        values: tuple[Any, ...] = (_typed(right, where),)
    else:
        values = tuple(_typed(part, where) for part in right.split(","))
    return Override(file, key, values, add)


def parse_overrides(texts: Iterable[str]) -> list[Override]:
    overrides: dict[tuple[str, str], Override] = {}
    for text in texts:
        o = parse_override(text)
        overrides[(o.file, o.key)] = o  # a later -S for the same key wins, as in DVC
    return list(overrides.values())


def grid(overrides: list[Override]) -> list[list[Assignment]]:
    """Every combination of the overrides' values: `-S a=1,2 -S b=x,y` is four runs."""
    if not overrides:
        return [[]]
    axes = [[Assignment(o.file, o.key, v, o.add) for o in [o] for v in o.values] for o in overrides]
    return [list(combo) for combo in itertools.product(*axes)]


# Editing ----------------------------------------------------------------------------


def _set(document: Any, a: Assignment, make_map: Any) -> None:
    parts = a.key.split(".")
    node = document
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list) and part.isdigit():
            index = int(part)
            if index >= len(node):
                if not (a.add and index == len(node)):
                    raise _unknown(a)
                node.append(a.value if last else make_map())
            elif last:
                node[index] = a.value
            node = node[index]
        elif isinstance(node, Mapping):
            if part not in node:
                if not a.add:
                    raise _unknown(a)
                node[part] = a.value if last else make_map()  # type: ignore[index]
            elif last:
                node[part] = a.value  # type: ignore[index]
            node = node[part]
        else:
            raise GitmlError(
                f"param '{a.key}' in {a.file}: '{'.'.join(parts[:depth])}' is not a mapping"
            )


def _unknown(a: Assignment) -> GitmlError:
    return GitmlError(
        f"param '{a.key}' does not exist in {a.file}",
        hint=f"to add it, use -S +{a.file}:{a.key}=..."
        if a.file != DEFAULT_PARAMS_FILE
        else f"to add it, use -S +{a.key}=...",
    )


def _edit_yaml(text: str, changes: list[Assignment], where: str) -> str:
    import io

    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    from gitml.pipeline.stage_edit import _plain, _ruamel, _scalar

    load_yaml(text, where)  # gitml must read the file before it is edited
    rt = _ruamel()
    try:
        document = rt.load(text) if text.strip() else CommentedMap()
    except YAMLError as exc:
        raise FormatError(f"{where}: malformed YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(document, Mapping):
        raise FormatError(f"{where}: the top level must be a mapping of keys to values")

    def as_node(value: Any) -> Any:
        if isinstance(value, str):
            return _scalar(value)
        if isinstance(value, list):
            return [as_node(v) for v in value]
        if isinstance(value, dict):
            mapping = CommentedMap()
            for k, v in value.items():
                mapping[k] = as_node(v)
            return mapping
        return value

    for a in changes:
        _set(document, Assignment(a.file, a.key, as_node(a.value), a.add), CommentedMap)
    buffer = io.StringIO()
    rt.dump(document, buffer)
    new_text = buffer.getvalue()
    if canonical(load_yaml(new_text, where)) != canonical(_plain(document)):
        raise FormatError(f"{where}: the edited file would not read back as written")
    return new_text


def _edit_json(text: str, changes: list[Assignment], where: str) -> str:
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FormatError(f"{where}: the top level must be a mapping of keys to values")
    for a in changes:
        _set(document, a, dict)
    indent_match = re.search(r"\n([ \t]+)\S", text)
    indent: str | int | None = indent_match.group(1) if indent_match else (None if text else 2)
    if indent_match is None and text.strip() and "\n" not in text.strip():
        indent = None
    dumped = json.dumps(document, indent=indent, ensure_ascii=False)
    return dumped + ("\n" if text.endswith("\n") or not text else "")


def _edit_toml(text: str, changes: list[Assignment], where: str) -> str:
    import tomlkit

    try:
        document = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError tree
        raise FormatError(f"{where}: malformed TOML: {exc}") from None
    for a in changes:
        if a.value is None:
            raise GitmlError(f"param '{a.key}' in {where}: TOML has no null value")
        _set(document, a, tomlkit.table)
    return tomlkit.dumps(document)


_EDITORS = {"yaml": _edit_yaml, "json": _edit_json, "toml": _edit_toml}


def apply(root: Path, assignments: list[Assignment]) -> list[str]:
    """Write the assignments into their params files (all checked before any is written);
    returns the files that changed."""
    by_file: dict[str, list[Assignment]] = {}
    for a in assignments:
        by_file.setdefault(a.file, []).append(a)
    new_texts: dict[str, bytes] = {}
    for file, changes in by_file.items():
        path = root / file
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            if not all(a.add for a in changes):
                raise GitmlError(
                    f"params file {file} does not exist",
                    hint=f"create it, or add keys with -S +{changes[0].key}=...",
                ) from None
            text = ""
        except UnicodeDecodeError:
            raise FormatError(f"{file}: not UTF-8 text") from None
        new = _EDITORS[file_format(file)](text, changes, file).encode("utf-8")
        if new != text.encode("utf-8"):
            new_texts[file] = new
    for file, data in new_texts.items():
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(root / file, data)
    return list(new_texts)
