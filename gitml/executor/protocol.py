"""The executor protocol: one self-contained, JSON-serialisable action per stage and the
result a worker sends back. Nothing here touches the workspace.

An action names everything a stage may read: data inputs by content id (fetched from a
store and verified), small files (git-tracked code, params files) by content, and the
paths of the outs to hash and store. A result names the outs by content id; the driver
trusts nothing else in it without checking.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from gitml.errors import FormatError, PathError
from gitml.paths import validate_relpath
from gitml.pipeline.lockfile import parse_locked_path, render_locked_path
from gitml.pipeline.model import LockedPath

PROTOCOL_VERSION = 2  # 2: actions carry the outs' schemas (a worker of 1 would skip them)
TAIL_LINES = 20
TAIL_BYTES = 4096


@dataclass(frozen=True)
class InlineFile:
    """A file that travels in the action itself (code deps, params files)."""

    path: str
    data: bytes
    executable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "data": base64.b64encode(self.data).decode("ascii"),
            "executable": self.executable,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> InlineFile:
        return cls(_relpath(raw["path"]), base64.b64decode(raw["data"]), bool(raw["executable"]))


@dataclass(frozen=True)
class StoreSpec:
    """Where a worker reads inputs and writes outs: the workspace's cache (`cache`, same
    machine) or a gitml remote (`remote`: its URL and options, never credentials)."""

    kind: str  # "cache" | "remote"
    location: str  # cache directory, or remote URL
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "location": self.location, "name": self.name,
            "options": self.options,
        }  # fmt: skip

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StoreSpec:
        if raw["kind"] not in ("cache", "remote"):
            raise FormatError(f"unknown store kind {str(raw['kind'])[:40]!r}")
        return cls(raw["kind"], str(raw["location"]), str(raw["name"]), dict(raw["options"]))


@dataclass(frozen=True)
class OutSchema:
    """The schema an out must meet before the worker stores it (SPEC 7.5)."""

    out: str
    schema: str  # the schema's path in the workspace, for messages
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"out": self.out, "schema": self.schema, "text": self.text}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> OutSchema:
        return cls(_relpath(raw["out"]), _relpath(raw["schema"]), str(raw["text"]))


@dataclass(frozen=True)
class Action:
    stage: str
    cmd: tuple[str, ...]
    wdir: str
    env: dict[str, str]
    inputs: tuple[LockedPath, ...]  # by content id, from the store
    files: tuple[InlineFile, ...]  # by content
    outs: tuple[str, ...]
    store: StoreSpec
    timeout: float | None = None
    run_id: str = ""  # the repro this action belongs to (to cancel its commands)
    schemas: tuple[OutSchema, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": PROTOCOL_VERSION,
                "stage": self.stage,
                "cmd": list(self.cmd),
                "wdir": self.wdir,
                "env": self.env,
                "inputs": [render_locked_path(i) for i in self.inputs],
                "files": [f.to_json() for f in self.files],
                "outs": list(self.outs),
                "store": self.store.to_json(),
                "timeout": self.timeout,
                "run_id": self.run_id,
                "schemas": [c.to_json() for c in self.schemas],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Action:
        try:
            raw = json.loads(text)
            _check_version(raw)
            return cls(
                stage=str(raw["stage"]),
                cmd=tuple(str(c) for c in raw["cmd"]),
                wdir=_relpath(raw["wdir"]) if raw["wdir"] else "",
                env={str(k): str(v) for k, v in raw["env"].items()},
                inputs=tuple(parse_locked_path(i, "action input") for i in raw["inputs"]),
                files=tuple(InlineFile.from_json(f) for f in raw["files"]),
                outs=tuple(_relpath(o) for o in raw["outs"]),
                store=StoreSpec.from_json(raw["store"]),
                timeout=None if raw["timeout"] is None else float(raw["timeout"]),
                run_id=str(raw["run_id"]),
                schemas=tuple(OutSchema.from_json(c) for c in raw["schemas"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FormatError(f"malformed executor action: {exc}") from None


@dataclass(frozen=True)
class ActionResult:
    stage: str
    returncode: int | None  # None: the command never ran (see `error`)
    outs: tuple[LockedPath, ...] = ()
    output_tail: str = ""  # last lines of the command's stdout and stderr
    error: str = ""  # what went wrong on the worker, besides the command's exit code
    duration: float = 0.0  # seconds the command ran
    usage: dict[str, float] = field(default_factory=dict)  # cpu_seconds, max_rss_mib
    host: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error

    def metadata(self) -> dict[str, object]:
        """How the run went on the worker, as `repro --json` reports it."""
        return {"host": self.host, "duration": round(self.duration, 3), **self.usage}

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": PROTOCOL_VERSION,
                "stage": self.stage,
                "returncode": self.returncode,
                "outs": [render_locked_path(o) for o in self.outs],
                "output_tail": self.output_tail,
                "error": self.error,
                "duration": self.duration,
                "usage": self.usage,
                "host": self.host,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ActionResult:
        try:
            raw = json.loads(text)
            _check_version(raw)
            code = raw["returncode"]
            return cls(
                stage=str(raw["stage"]),
                returncode=None if code is None else int(code),
                outs=tuple(parse_locked_path(o, "executor result out") for o in raw["outs"]),
                output_tail=str(raw["output_tail"]),
                error=str(raw["error"]),
                duration=float(raw["duration"]),
                usage={str(k): float(v) for k, v in raw["usage"].items()},
                host=str(raw["host"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FormatError(f"malformed executor result: {exc}") from None


def tail(data: bytes) -> str:
    """The last lines of a command's output, as text."""
    text = data[-TAIL_BYTES:].decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-TAIL_LINES:])


def _relpath(value: Any) -> str:
    if not isinstance(value, str):
        raise FormatError("a path in an executor message must be a string")
    try:
        return validate_relpath(value, what="executor message")
    except PathError as exc:
        raise FormatError(str(exc)) from None


def _check_version(raw: Any) -> None:
    if not isinstance(raw, dict) or raw.get("version") != PROTOCOL_VERSION:
        raise FormatError("executor message of an unknown protocol version")
