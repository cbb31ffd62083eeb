"""`.gitml/config` (tracked) and `.gitml/config.local` (ignored), both TOML.

Read with tomllib (fast); written with tomlkit so users' comments survive edits.
`config.local` wins over `config`, key by key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import ConfigError
from gitml.fsutil import LINK_TYPES, atomic_write_bytes

DEFAULT_LINK_TYPES = ("reflink", "copy")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}{_where(str(exc))}: malformed TOML: {_cause(str(exc))}") from None


_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _where(message: str) -> str:
    """`:LINE:COLUMN` from tomllib's "(at line L, column C)", as compilers print it."""
    found = _POSITION.search(message)
    return f":{found[1]}:{found[2]}" if found else ""


def _cause(message: str) -> str:
    return _POSITION.sub("", message)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Config:
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ".gitml/config"

    @classmethod
    def load(cls, gitml_dir: Path) -> Config:
        shared = _read_toml(gitml_dir / "config")
        local = _read_toml(gitml_dir / "config.local")
        return cls(_merge(shared, local), str(gitml_dir / "config"))

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.source}: [{name}] must be a table")
        return value

    @property
    def link_types(self) -> tuple[str, ...]:
        raw = self.section("cache").get("type", list(DEFAULT_LINK_TYPES))
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",")]
        if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
            raise ConfigError(f"{self.source}: cache.type must be a list of link types")
        bad = [t for t in raw if t not in LINK_TYPES]
        if bad:
            raise ConfigError(
                f"{self.source}: unknown cache.type {bad[0]!r} "
                f"(choose from {', '.join(LINK_TYPES)})"
            )
        return tuple(raw)

    def cache_dir(self, gitml_dir: Path) -> Path:
        raw = self.section("cache").get("dir")
        if raw is None:
            return gitml_dir / "cache"
        if not isinstance(raw, str) or not raw:
            raise ConfigError(f"{self.source}: cache.dir must be a path")
        path = Path(raw).expanduser()
        # A relative cache.dir is relative to .gitml/, as in DVC.
        return path if path.is_absolute() else (gitml_dir / path).resolve()


def edit_toml(path: Path, edit: Any) -> None:
    """Apply `edit(document)` to a TOML file, keeping comments; atomic write."""
    import tomlkit

    try:
        text = path.read_text("utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError tree
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    edit(document)
    atomic_write_bytes(path, tomlkit.dumps(document).encode("utf-8"))
