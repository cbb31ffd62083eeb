"""Reading and writing machine-readable YAML with PyYAML (libyaml when available).

One reader owns YAML semantics for gitml.yaml, gitml.lock, params and metrics files
(shared/research §7: mixing YAML 1.1 and 1.2 parsers silently changes values).
Duplicate mapping keys are an error rather than "last one wins".
"""

from __future__ import annotations

from typing import Any

import yaml

from gitml.errors import FormatError

try:
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeDumper as _Dumper
    from yaml import SafeLoader as _BaseLoader


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: set[Any] = set()
            for key_node, _ in node.value:
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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_yaml(data: bytes | str, where: str) -> Any:
    """Parse YAML; any problem becomes a one-line FormatError naming `where` and the line."""
    try:
        return yaml.load(data, Loader=_StrictLoader)  # a SafeLoader subclass
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
