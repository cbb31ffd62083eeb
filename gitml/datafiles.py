"""Every YAML, TOML and JSON file gitml reads goes through here: parsed with bounds first.

YAML is read as YAML 1.2 (the core schema, as DVC's ruamel.yaml `typ='safe'` reads it:
`1e-3` is a float, `no`/`on` are strings, `010` is ten), merge keys (`<<: *anchor`) with
overrides, and a duplicate key is an error. libyaml parses (through PyYAML's C binding);
only scalar resolution is YAML 1.2's. This is 1.5x faster than ruamel.yaml's own C loader
and needs no extra compiled package (docs/design.md, "DVC projects as they are").

Bounds, checked on the parsed structure before anything walks it: the file size, the
number of values that aliases expand to (a 347-byte alias bomb expands to 387 million),
and the nesting depth.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from gitml.errors import FormatError

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeDumper as _BaseDumper
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef,misc]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


MAX_BYTES = 64 * 1024 * 1024
MAX_ALIAS_EXPANSION = 1_000_000  # values that aliases add beyond those written out
MAX_DEPTH = 200

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Yaml12Resolver(yaml.resolver.BaseResolver):  # type: ignore[misc]
    """YAML 1.2 core-schema implicit types, with the patterns ruamel.yaml uses for 1.2."""


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
):
    _Yaml12Resolver.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))
_RESOLVER_12 = _Yaml12Resolver()
_RESOLVER_11 = yaml.resolver.Resolver()


class _Yaml12Constructor(yaml.constructor.SafeConstructor):  # type: ignore[misc]
    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text[0] == "-" else 1
        text = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
            if text.startswith(prefix):
                return sign * int(text[2:], base)
        return sign * int(text)  # YAML 1.2: a leading zero is decimal, no sexagesimal

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue  # merged keys may be overridden by the mapping's own keys
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain value", key_node.start_mark
                    ) from None
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {str(key)[:60]!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Yaml12Constructor.add_constructor("tag:yaml.org,2002:int", _Yaml12Constructor.construct_yaml_int)


class _Loader(_Parser, _Yaml12Constructor, _Yaml12Resolver):  # type: ignore[misc]
    def __init__(self, stream: Any, where: str) -> None:
        _Parser.__init__(self, stream)
        _Yaml12Constructor.__init__(self)
        _Yaml12Resolver.__init__(self)
        self.where = where

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_node_graph(node, self.where)
        return self.construct_document(node)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Quotes a string whenever YAML 1.1 *or* 1.2 would read it as something else."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = _RESOLVER_12.resolve(kind, value, implicit)
        return tag if tag != _STR_TAG else super().resolve(kind, value, implicit)


class _GraphCheck:
    """Counts the values a node graph expands to, memoised per collection: linear work."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.visits = 0
        self.measured: dict[int, tuple[int, int]] = {}  # collection id -> (values, height)
        self.on_path: set[int] = set()

    def measure(self, node: Any, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            raise FormatError(f"{self.where}: YAML nested deeper than {MAX_DEPTH} levels")
        self.visits += 1
        if isinstance(node, yaml.ScalarNode):
            return 1, 1
        key = id(node)
        known = self.measured.get(key)
        if known is not None:
            if level + known[1] - 1 > MAX_DEPTH:
                raise FormatError(f"{self.where}: YAML nested deeper than {MAX_DEPTH} levels")
            return known
        if key in self.on_path:
            raise FormatError(
                f"{self.where}: a YAML alias refers to the collection that contains it"
            )
        self.on_path.add(key)
        values, height = 1, 0
        children = node.value if isinstance(node, yaml.SequenceNode) else _pairs(node.value)
        for child in children:
            child_values, child_height = self.measure(child, level + 1)
            values = min(values + child_values, 2**62)
            height = max(height, child_height)
        self.on_path.discard(key)
        self.measured[key] = (values, height + 1)
        return values, height + 1


def _pairs(pairs: list[tuple[Any, Any]]) -> list[Any]:
    return [node for pair in pairs for node in pair]


def _check_node_graph(root: Any, where: str) -> None:
    """Reject alias bombs, self-referencing aliases and deep nesting without expanding."""
    check = _GraphCheck(where)
    values, _ = check.measure(root, 1)
    if values - check.visits > MAX_ALIAS_EXPANSION:
        raise FormatError(
            f"{where}: YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} values"
        )


def _check_depth(value: Any, where: str, kind: str) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise FormatError(f"{where}: {kind} nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)


def _check_size(data: bytes | str, where: str) -> None:
    if len(data) > MAX_BYTES:
        raise FormatError(f"{where}: larger than {MAX_BYTES // (1024 * 1024)} MiB")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_bytes(path: Path, where: str) -> bytes:
    """A data file's bytes, reading no more than the size bound (FileNotFoundError passes)."""
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    _check_size(data, where)
    return data


def load_yaml(data: bytes | str, where: str) -> Any:
    """Parse YAML 1.2; any problem becomes a one-line FormatError naming `where` and the line."""
    _check_size(data, where)
    loader = _Loader(data, where)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise FormatError(f"{where}{at}: malformed YAML: {_one_line(problem)}") from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{where}: malformed YAML: {_one_line(str(exc))[:200]}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{where}: not valid UTF-8 YAML: {_one_line(str(exc))[:120]}") from None
    except RecursionError:
        raise FormatError(f"{where}: YAML nested too deeply") from None
    finally:
        loader.dispose()


def dump_yaml(data: Any) -> str:
    """Deterministic block-style YAML: keys in the order given, no line wrapping."""
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )
    return text


def reads_as_string(text: str) -> bool:
    """True when `text` written unquoted reads back as a string in YAML 1.2 and in 1.1."""
    return all(
        r.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
        for r in (_RESOLVER_12, _RESOLVER_11)
    )


def load_json(data: bytes, where: str) -> Any:
    _check_size(data, where)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{where}: malformed JSON: {exc}") from None
    except RecursionError:
        raise FormatError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(value, where, "JSON")
    return value


def load_toml(data: bytes, where: str) -> dict[str, Any]:
    _check_size(data, where)
    try:
        value = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FormatError(f"{where}: malformed TOML: {exc}") from None
    except RecursionError:
        raise FormatError(f"{where}: TOML nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(value, where, "TOML")
    return value
