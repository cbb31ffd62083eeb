"""DVC's own files, read without DVC: `.dvc` pointers, `dvc.lock` and `.dvc/config`.

Only what `gitml migrate dvc` needs. Paths stay as DVC wrote them (relative to the file's
folder, or to a stage's `wdir`); hashes are DVC's md5 (`<md5>.dir` for a directory).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.datafiles import load_yaml, read_bytes
from gitml.errors import FormatError

DVC_DIR = ".dvc"
DVC_PIPELINE = "dvc.yaml"
DVC_LOCK = "dvc.lock"
DVC_SUFFIX = ".dvc"

_MD5_RE = re.compile(r"[0-9a-f]{32}(\.dir)?")


@dataclass(frozen=True)
class DvcObject:
    """One out or dep as DVC recorded it."""

    path: str  # as written: relative to the .dvc file's folder or the stage's wdir
    md5: str  # 32 hex digits, with `.dir` for a directory
    size: int | None = None
    nfiles: int | None = None
    executable: bool = False
    legacy: bool = False  # DVC 2 hash (no `hash: md5`): text files hashed with CRLF -> LF

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


def _object(data: Any, where: str, *, legacy_default: bool) -> DvcObject:
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise FormatError(f"{where}: each entry needs a 'path'")
    md5 = data.get("md5")
    if not isinstance(md5, str) or not _MD5_RE.fullmatch(md5):
        raise FormatError(f"{where} '{data['path']}': no md5 hash (only md5 is supported)")
    size = data.get("size")
    nfiles = data.get("nfiles")
    return DvcObject(
        path=data["path"],
        md5=md5,
        size=size if isinstance(size, int) else None,
        nfiles=nfiles if isinstance(nfiles, int) else None,
        executable=data.get("isexec") is True,
        legacy=data.get("hash") != "md5" and legacy_default,
    )


def _mapping(raw: bytes, where: str) -> dict[str, Any]:
    data = load_yaml(raw, where)
    if not isinstance(data, dict):
        raise FormatError(f"{where}: the top level must be a mapping")
    return data


@dataclass(frozen=True)
class DvcPointer:
    file: str  # workspace-relative path of the .dvc file
    outs: tuple[DvcObject, ...]
    imported: bool  # `dvc import` / `import-url`: has deps

    def out_path(self, out: DvcObject) -> str:
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.file), out.path))


def read_pointer(root: Path, relpath: str) -> DvcPointer:
    data = _mapping(read_bytes(root / relpath, relpath), relpath)
    outs = data.get("outs")
    if not isinstance(outs, list) or not outs:
        raise FormatError(f"{relpath}: no 'outs' list")
    return DvcPointer(
        relpath,
        tuple(_object(o, f"{relpath}: outs", legacy_default=True) for o in outs),
        bool(data.get("deps")),
    )


@dataclass(frozen=True)
class DvcLockStage:
    cmd: str | list[str]
    deps: tuple[DvcObject, ...]
    params: dict[str, dict[str, Any]]  # params file (relative to wdir) -> key -> value
    outs: tuple[DvcObject, ...]


def read_lock(root: Path, relpath: str) -> dict[str, DvcLockStage]:
    """Stages of a dvc.lock (schema 2.0) by name; paths relative to each stage's wdir."""
    data = _mapping(read_bytes(root / relpath, relpath), relpath)
    if str(data.get("schema", "")) != "2.0":
        raise FormatError(f"{relpath}: only dvc.lock schema '2.0' (DVC 2 and 3) is supported")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise FormatError(f"{relpath}: 'stages' must be a mapping")
    result = {}
    for name, entry in stages.items():
        where = f"{relpath}: stage '{name}'"
        if not isinstance(entry, dict) or not isinstance(entry.get("cmd"), str | list):
            raise FormatError(f"{where}: needs a 'cmd'")
        params = entry.get("params") or {}
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise FormatError(f"{where}: 'params' must map files to values")
        result[str(name)] = DvcLockStage(
            cmd=entry["cmd"],
            deps=tuple(_object(d, f"{where}: deps", legacy_default=True)
                       for d in entry.get("deps") or []),
            params={str(f): dict(v) for f, v in params.items()},
            outs=tuple(_object(o, f"{where}: outs", legacy_default=True)
                       for o in entry.get("outs") or []),
        )  # fmt: skip
    return result


@dataclass(frozen=True)
class DvcConfig:
    default_remote: str | None
    remotes: dict[str, dict[str, str]]  # name -> options (url, endpointurl, profile, ...)
    cache_dir: str | None  # [cache] dir, relative to .dvc/


_SECTION_RE = re.compile(r"""^\[\s*['"]?(?P<name>.*?)['"]?\s*\]$""")
_REMOTE_RE = re.compile(r"""^remote\s+"(?P<name>[^"]+)"$""")


def _read_config_file(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = read_bytes(path, str(path)).decode("utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text") from None
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = _SECTION_RE.match(line)
        if header:
            current = sections.setdefault(header["name"], {})
            continue
        key, sep, value = line.partition("=")
        if not sep or current is None:
            raise FormatError(f"{path}:{number}: expected 'key = value' inside a [section]")
        current[key.strip()] = value.strip().strip("'\"")
    return sections


def read_config(root: Path) -> DvcConfig:
    """.dvc/config with .dvc/config.local over it."""
    sections = _read_config_file(root / DVC_DIR / "config")
    for name, options in _read_config_file(root / DVC_DIR / "config.local").items():
        sections.setdefault(name, {}).update(options)
    remotes = {}
    for name, options in sections.items():
        match = _REMOTE_RE.match(name)
        if match and "url" in options:
            remotes[match["name"]] = options
    return DvcConfig(
        default_remote=sections.get("core", {}).get("remote"),
        remotes=remotes,
        cache_dir=sections.get("cache", {}).get("dir"),
    )
