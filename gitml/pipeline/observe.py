"""What a stage's deps, outs and params look like in the workspace right now.

Hashing goes through gitml.scan.observe() and the stat cache, so files that did not
change since they were last hashed are not read again; a directory's id is the id of
its manifest, as for `gitml add`.
"""

from __future__ import annotations

from typing import Any

from gitml.errors import FormatError
from gitml.pipeline import params as params_io
from gitml.pipeline.model import LockedPath, ParamValues, Stage
from gitml.pipeline.stale import Observed
from gitml.scan import observe
from gitml.workspace import Workspace


def observe_path(ws: Workspace, relpath: str) -> LockedPath | None:
    found = observe(relpath, ws.abspath(relpath), ws.cache, ws.state, ws.progress)
    if found.kind == "missing":
        return None
    return LockedPath.from_pointer(relpath, found.pointer())


def read_params(ws: Workspace, stage: Stage) -> dict[str, dict[str, Any]]:
    """file -> key -> current value (params.MISSING where absent) for the stage's params."""
    values: dict[str, dict[str, Any]] = {}
    for spec in stage.params:
        try:
            data = params_io.load(ws.root, spec.file)
        except FormatError as exc:
            raise FormatError(f"{exc} (params of stage '{stage.name}')") from None
        values[spec.file] = dict(params_io.iter_selected(data or {}, spec.keys))
    return values


def observe_stage(ws: Workspace, stage: Stage) -> Observed:
    paths = {p: observe_path(ws, p) for p in (*stage.deps, *(o.path for o in stage.outs))}
    return Observed(paths, read_params(ws, stage))


def param_values(observed: Observed) -> ParamValues:
    """The observed params as they go into gitml.lock (callers check nothing is missing)."""
    return {
        file: {k: v for k, v in keys.items() if v is not params_io.MISSING}
        for file, keys in observed.params.items()
    }


def missing_params(observed: Observed) -> list[str]:
    return [
        f"{file}:{key}"
        for file, keys in observed.params.items()
        for key, value in keys.items()
        if value is params_io.MISSING
    ]
