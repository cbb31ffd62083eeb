"""`gitml stage add`: write a stage into gitml.yaml, keeping the user's comments and layout.

ruamel.yaml round-trip with the settings that reproduce an unmodified file byte for byte
(shared/research §7). The result is re-read with gitml's own reader (PyYAML, YAML 1.1)
and must mean the same as what ruamel wrote (YAML 1.2) and form a valid pipeline, or
nothing is written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.datafiles import load_yaml, reads_as_string
from gitml.errors import FormatError, PipelineError
from gitml.fsutil import atomic_write_bytes
from gitml.pipeline import PIPELINE_FILE
from gitml.pipeline.dag import build_graph
from gitml.pipeline.params import canonical


@dataclass(frozen=True)
class NewStage:
    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # DVC -p syntax: "a,b" or "file.yaml:a,b"
    outs: list[str] = field(default_factory=list)
    outs_no_cache: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    metrics_no_cache: list[str] = field(default_factory=list)
    wdir: str | None = None
    desc: str | None = None


def _ruamel() -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096
    rt.preserve_quotes = True
    return rt


def _scalar(text: str) -> Any:
    """A string that reads back as this same string (in YAML 1.2, and in 1.1 too)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if not reads_as_string(text) or text != text.strip() or not text:
        return DoubleQuotedScalarString(text)
    return text


def _params_entries(specs: list[str]) -> list[Any]:
    from ruamel.yaml.comments import CommentedMap

    plain: list[str] = []
    by_file: dict[str, list[str] | None] = {}
    for spec in specs:
        file, sep, keys_text = spec.rpartition(":")
        keys = [k.strip() for k in (keys_text if sep else spec).split(",") if k.strip()]
        if sep and file:
            existing = by_file.setdefault(file, [])
            if not keys:
                by_file[file] = None
            elif existing is not None:
                existing.extend(k for k in keys if k not in existing)
        elif keys:
            plain.extend(k for k in keys if k not in plain)
        else:
            raise PipelineError(f"-p {spec!r}: name a parameter, or FILE:KEYS")
    entries: list[Any] = [_scalar(k) for k in plain]
    for file, file_keys in by_file.items():
        entry = CommentedMap()
        entry[_scalar(file)] = None if file_keys is None else [_scalar(k) for k in file_keys]
        entries.append(entry)
    return entries


def _out_entries(paths: list[str], no_cache: list[str]) -> list[Any]:
    from ruamel.yaml.comments import CommentedMap

    entries: list[Any] = [_scalar(p) for p in paths]
    for path in no_cache:
        entry = CommentedMap()
        flags = CommentedMap()
        flags["cache"] = False
        entry[_scalar(path)] = flags
        entries.append(entry)
    return entries


def _build(stage: NewStage) -> Any:
    from ruamel.yaml.comments import CommentedMap

    data = CommentedMap()
    data["cmd"] = _scalar(stage.cmd)
    if stage.desc:
        data["desc"] = _scalar(stage.desc)
    if stage.wdir and stage.wdir != ".":
        data["wdir"] = _scalar(stage.wdir)
    if stage.deps:
        data["deps"] = [_scalar(d) for d in stage.deps]
    if stage.params:
        data["params"] = _params_entries(stage.params)
    if stage.outs or stage.outs_no_cache:
        data["outs"] = _out_entries(stage.outs, stage.outs_no_cache)
    if stage.metrics or stage.metrics_no_cache:
        data["metrics"] = _out_entries(stage.metrics, stage.metrics_no_cache)
    return data


def _plain(data: Any) -> Any:
    """ruamel's round-trip types as plain Python values."""
    if isinstance(data, dict):
        return {_plain(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, str):
        return str(data)
    return data


def add_stage(
    root: Path, stage: NewStage, *, file: str = PIPELINE_FILE, force: bool = False
) -> bool:
    """Write the stage into `file` (a workspace-relative gitml.yaml, whose folder its paths
    are relative to); returns True if the file was created."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    from gitml.pipeline.project import address, load_pipelines

    path = root / file
    created = not path.exists()
    text = "" if created else path.read_text("utf-8")
    load_yaml(text, file)  # the file must be valid for gitml before we touch it
    rt = _ruamel()
    try:
        document = rt.load(text) if text.strip() else None
    except YAMLError as exc:
        raise FormatError(f"{file}: malformed YAML: {' '.join(str(exc).split())}") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, dict):
        raise FormatError(f"{file}: the top level must be a mapping with a 'stages' key")
    stages = document.get("stages")
    if stages is None:
        stages = document["stages"] = CommentedMap()
    if not isinstance(stages, dict):
        raise FormatError(f"{file}: 'stages' must be a mapping")
    if stage.name in stages and not force:
        raise PipelineError(
            f"stage '{stage.name}' already exists in {file}", hint="use -f to overwrite it"
        )
    stages[stage.name] = _build(stage)
    buffer = io.StringIO()
    rt.dump(document, buffer)
    new_text = buffer.getvalue()
    if canonical(load_yaml(new_text, file)) != canonical(_plain(document)):
        raise FormatError(
            f"{file}: YAML 1.1 and 1.2 would read the edited file differently "
            "(unquoted yes/no/on/off or similar); quote those values and retry"
        )
    pipeline = load_pipelines(root, pending=(file, new_text.encode("utf-8")))
    if pipeline is None or address(file, stage.name) not in pipeline.stages:
        raise PipelineError(f"stage '{stage.name}' could not be added")  # pragma: no cover
    build_graph(pipeline.stages.values(), file)
    atomic_write_bytes(path, new_text.encode("utf-8"))
    return created
