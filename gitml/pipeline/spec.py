"""`gitml.yaml`: stages in DVC's `dvc.yaml` layout, parsed strictly into `Stage` values.

Supported: `stages: {name: {cmd, wdir, deps, params, outs, metrics, plots, frozen,
always_changed, desc, meta, vars}}`, `foreach`/`do` and `matrix` stages (named
`name@key` as DVC names them), top-level `vars`, `params`, `metrics`, `plots` and
`artifacts`, and `${...}` interpolation (gitml/pipeline/interpolate.py).
Anything else is a one-line FormatError naming the file, the stage and the key.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.datafiles import load_yaml
from gitml.errors import FormatError, PathError, PipelineError
from gitml.paths import validate_relpath
from gitml.pipeline import LOCK_FILE, PIPELINE_FILE
from gitml.pipeline import params as params_io
from gitml.pipeline.interpolate import (
    Context,
    InterpolationError,
    load_vars,
    resolve,
    to_str,
)
from gitml.pipeline.model import DEFAULT_PARAMS_FILE, OutKind, OutSpec, ParamsSpec, Stage
from gitml.pipeline.resources import parse_resources

ReadAt = Callable[[str], bytes | None]  # relpath -> its bytes at one revision, None if absent

_TOP_KEYS = frozenset({"stages", "vars", "params", "metrics", "plots", "artifacts", "checks"})
_STAGE_KEYS = frozenset(
    {
        "cmd", "wdir", "deps", "params", "outs", "metrics", "plots",
        "frozen", "always_changed", "desc", "meta", "vars", "resources",
    }
)  # fmt: skip
_OUT_FLAGS = frozenset(
    {"cache", "persist", "push", "desc", "type", "labels", "meta", "remote", "schema"}
)
_PLOT_PROPS = frozenset({"x", "y", "x_label", "y_label", "title", "template", "header"})
_BOOL_FLAGS = ("cache", "persist", "push")
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_RESERVED_OUTS = frozenset({PIPELINE_FILE, LOCK_FILE})


@dataclass(frozen=True)
class Pipeline:
    file: str
    stages: dict[str, Stage]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # foreach/matrix
    metrics: tuple[str, ...] = ()  # top-level metrics files
    params_files: tuple[str, ...] = ()  # top-level params files
    # Stage (or group) address -> (its gitml.yaml, its name there); see pipeline/project.py.
    origin: dict[str, tuple[str, str]] = field(default_factory=dict)

    def select(self, names: list[str]) -> list[str]:
        """Stage addresses for user-given names (`stage`, `path/to/gitml.yaml:stage`);
        a foreach/matrix group name means all of it."""
        selected: list[str] = []
        for name in names:
            address = self.address_of(name)
            if address in self.stages:
                selected.append(address)
            else:
                selected.extend(self.groups[address])
        return list(dict.fromkeys(selected))

    def address_of(self, name: str) -> str:
        """The address of a stage or group a user named; a bare name must be unique."""
        if name in self.stages or name in self.groups:
            return name
        matches = [a for a, (_, local) in self.origin.items() if local == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise PipelineError(
                f"stage name '{name}' is ambiguous: use one of " + ", ".join(sorted(matches))
            )
        file, colon, local = name.rpartition(":")
        if colon and file.startswith("./"):
            return self.address_of(f"{file[2:]}:{local}")
        if colon and file == PIPELINE_FILE:
            return self.address_of(local)
        raise PipelineError(f"{self.file}: no stage named '{name}'")

    def out_owner(self, relpath: str) -> tuple[str, str] | None:
        """(stage, out) for an out equal to, inside or containing `relpath`."""
        for stage in self.stages.values():
            for out in stage.outs:
                p = out.path
                if relpath == p or relpath.startswith(p + "/") or p.startswith(relpath + "/"):
                    return stage.name, p
        return None


def _fail(where: str, message: str) -> FormatError:
    return FormatError(f"{where}: {message}")


def _check_keys(data: Mapping[Any, Any], allowed: frozenset[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(where, f"unknown key '{str(key)[:60]}'")


def workspace_path(value: Any, base: str, where: str) -> str:
    """A path from gitml.yaml, relative to `base`, as a validated workspace relpath."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "a path must be a non-empty string")
    if "://" in value:
        raise PathError(
            f"{where}: {value!r} is a URL; URL dependencies and outputs (DVC's import-url "
            "style deps) are not supported: fetch it in a stage command into a file that is "
            "an out, or track the file with 'gitml add'"
        )
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise PathError(f"{where}: absolute path {value!r} is not allowed (use a workspace path)")
    joined = posixpath.normpath(posixpath.join(base, value.rstrip("/")) if base else value)
    if joined == "." or joined == ".." or joined.startswith("../"):
        raise PathError(f"{where}: path {value!r} is outside the workspace")
    return validate_relpath(joined, what=where)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"must be true or false, got {str(value)[:40]!r}")
    return value


def _cmd(value: Any, where: str) -> tuple[tuple[str, ...], bool]:
    if isinstance(value, str) and value.strip():
        return (value,), False
    if isinstance(value, list) and value and all(isinstance(c, str) and c.strip() for c in value):
        return tuple(value), True
    raise _fail(where, "must be a command string or a non-empty list of command strings")


def _outs(entries: Any, kind: OutKind, wdir: str, where: str) -> list[OutSpec]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise _fail(where, "must be a list of paths")
    result = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        flags: Any = {}
        if isinstance(entry, dict):
            if len(entry) != 1:
                raise _fail(at, "must be a path or a mapping of one path to its options")
            ((path, flags),) = entry.items()
            flags = flags or {}
            if not isinstance(flags, dict):
                raise _fail(at, "options must be a mapping (cache, persist, push, ...)")
            allowed = _OUT_FLAGS | _PLOT_PROPS if kind == "plots" else _OUT_FLAGS
            _check_keys(flags, allowed, f"{at} '{path}'")
        else:
            path = entry
        relpath = workspace_path(path, wdir, at)
        if relpath in _RESERVED_OUTS:
            raise PathError(f"{at}: {relpath} cannot be a stage output")
        values = {k: _bool(flags[k], f"{at} '{path}': {k}") for k in _BOOL_FLAGS if k in flags}
        plot = tuple((k, flags[k]) for k in sorted(_PLOT_PROPS) if k in flags)
        result.append(OutSpec(relpath, kind, **values, plot=plot))
    return result


def _params(entries: Any, wdir: str, where: str) -> list[ParamsSpec]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise _fail(where, "must be a list of keys or {file: [keys]} mappings")
    by_file: dict[str, list[str] | None] = {}

    def add(file: str, keys: list[str] | None) -> None:
        current = by_file.get(file, [])
        if keys is None or current is None:
            by_file[file] = None
        else:
            by_file[file] = current + [k for k in keys if k not in current]

    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if isinstance(entry, str) and entry:
            add(workspace_path(DEFAULT_PARAMS_FILE, wdir, at), [entry])
        elif isinstance(entry, dict) and entry:
            for file, keys in entry.items():
                relpath = workspace_path(file, wdir, at)
                try:
                    params_io.file_format(relpath)
                except FormatError as exc:
                    raise _fail(at, str(exc)) from None
                if keys is None or keys == []:
                    add(relpath, None)
                elif isinstance(keys, list) and all(isinstance(k, str) and k for k in keys):
                    add(relpath, list(keys))
                else:
                    raise _fail(f"{at} '{file}'", "must be a list of parameter names")
        else:
            raise _fail(at, "must be a parameter name or a {file: [keys]} mapping")
    return [ParamsSpec(f, None if k is None else tuple(k)) for f, k in by_file.items()]


def _deps(entries: Any, wdir: str, where: str) -> tuple[str, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise _fail(where, "must be a list of paths")
    paths = [workspace_path(e, wdir, f"{where}[{i}]") for i, e in enumerate(entries)]
    return tuple(dict.fromkeys(paths))


def build_stage(name: str, data: Mapping[str, Any], wdir: str, where: str) -> Stage:
    """A Stage from one resolved (interpolated) stage mapping."""
    if "cmd" not in data:
        raise _fail(where, "missing required key 'cmd'")
    cmd, is_list = _cmd(data["cmd"], f"{where}: cmd")
    outs = [
        *_outs(data.get("outs"), "outs", wdir, f"{where}: outs"),
        *_outs(data.get("metrics"), "metrics", wdir, f"{where}: metrics"),
        *_outs(data.get("plots"), "plots", wdir, f"{where}: plots"),
    ]
    seen: set[str] = set()
    for out in outs:
        if out.path in seen:
            raise _fail(where, f"output '{out.path}' is listed twice")
        seen.add(out.path)
    for a, b in itertools.combinations(sorted(seen), 2):
        if b.startswith(a + "/"):
            raise _fail(where, f"output '{b}' is inside its other output '{a}'")
    desc = data.get("desc")
    if desc is not None and not isinstance(desc, str):
        raise _fail(f"{where}: desc", "must be a string")
    return Stage(
        name=name,
        cmd=cmd,
        cmd_is_list=is_list,
        wdir=wdir,
        deps=_deps(data.get("deps"), wdir, f"{where}: deps"),
        params=tuple(_params(data.get("params"), wdir, f"{where}: params")),
        outs=tuple(outs),
        frozen=_bool(data.get("frozen", False), f"{where}: frozen"),
        always_changed=_bool(data.get("always_changed", False), f"{where}: always_changed"),
        desc=desc,
        resources=parse_resources(data.get("resources"), f"{where}: resources"),
    )


class _Parser:
    def __init__(
        self,
        root: Path,
        file: str,
        rev: str | None = None,
        base: str = "",
        read: ReadAt | None = None,
    ) -> None:
        self.root = root
        self.file = file
        self.rev = rev  # vars files are read at this git revision (None: the workspace)
        self.base = base  # the folder of this gitml.yaml; its paths are relative to it
        self._read = read  # reads them at `rev` instead of `git show`, when given
        self._files: dict[str, dict[str, Any]] = {}

    def _load(self, relpath: str) -> dict[str, Any] | None:
        if self._read is not None and self.rev is not None:
            data = self._read(relpath)
            return None if data is None else params_io.parse(data, f"{self.rev}:{relpath}")
        return params_io.load_at(self.root, self.rev, relpath)

    def _default_params(self) -> dict[str, Any] | None:
        relpath = posixpath.join(self.base, DEFAULT_PARAMS_FILE)
        if self.rev is None and not (self.root / relpath).is_file():
            return None
        return self._load(relpath)

    def read_vars_file(self, relpath: str) -> dict[str, Any]:
        try:
            validate_relpath(relpath, what="vars file")
        except PathError as exc:
            raise InterpolationError(str(exc)) from None
        if relpath not in self._files:
            data = self._load(relpath)
            if data is None:
                raise InterpolationError(f"vars file '{relpath}' does not exist")
            self._files[relpath] = data
        return self._files[relpath]

    def parse(self, data: Any) -> Pipeline:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise _fail(self.file, "the top level must be a mapping with a 'stages' key")
        _check_keys(data, _TOP_KEYS, self.file)
        ctx = Context()
        top_vars = data.get("vars", [])
        listed = isinstance(top_vars, list) and any(
            isinstance(v, str) and v.partition(":")[0] == DEFAULT_PARAMS_FILE for v in top_vars
        )
        defaults = None if listed else self._default_params()
        if defaults is not None:
            default_file = posixpath.join(self.base, DEFAULT_PARAMS_FILE)
            self._files[default_file] = defaults
            ctx.merge(defaults, default_file, file=default_file)
        try:
            load_vars(ctx, top_vars, self.base, self.read_vars_file, "vars")
        except InterpolationError as exc:
            raise _fail(self.file, str(exc)) from None
        raw_stages = data.get("stages") or {}
        if not isinstance(raw_stages, dict):
            raise _fail(self.file, "'stages' must be a mapping of stage names to stages")
        stages: dict[str, Stage] = {}
        groups: dict[str, tuple[str, ...]] = {}
        for name, definition in raw_stages.items():
            if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
                raise _fail(
                    self.file,
                    f"invalid stage name {str(name)[:60]!r} (use letters, digits, _ . -)",
                )
            where = f"{self.file}: stage '{name}'"
            if not isinstance(definition, dict):
                raise _fail(where, "must be a mapping (cmd, deps, outs, ...)")
            if "foreach" in definition or "matrix" in definition:
                generated = self._generated(name, definition, ctx, where)
                groups[name] = tuple(s.name for s in generated)
            else:
                generated = [self._entry(name, definition, ctx, where)]
            for stage in generated:
                if stage.name in stages:
                    raise _fail(self.file, f"stage name '{stage.name}' is defined twice")
                stages[stage.name] = stage
        return Pipeline(
            self.file,
            stages,
            groups,
            metrics=self._top_paths(data.get("metrics"), ctx, "metrics"),
            params_files=self._top_paths(data.get("params"), ctx, "params"),
        )

    def _top_paths(self, entries: Any, ctx: Context, key: str) -> tuple[str, ...]:
        if entries is None:
            return ()
        where = f"{self.file}: {key}"
        if not isinstance(entries, list):
            raise _fail(where, "must be a list of files")
        paths = []
        for index, entry in enumerate(entries):
            try:
                value = resolve(entry, ctx, key)
            except InterpolationError as exc:
                raise _fail(f"{where}[{index}]", str(exc)) from None
            paths.append(workspace_path(value, self.base, f"{where}[{index}]"))
        return tuple(paths)

    def _entry(self, name: str, definition: Mapping[str, Any], ctx: Context, where: str) -> Stage:
        _check_keys(definition, _STAGE_KEYS, where)
        field_name = "wdir"
        try:
            wdir = self.base
            if definition.get("wdir") is not None:
                raw = to_str(resolve(definition["wdir"], ctx, "wdir"))
                joined = posixpath.normpath(posixpath.join(self.base, raw))
                wdir = "" if joined == "." else workspace_path(raw, self.base, where)
            if definition.get("vars"):
                field_name = "vars"
                ctx = ctx.clone()
                load_vars(ctx, definition["vars"], wdir, self.read_vars_file, "vars")
            ctx.tracked = {}
            resolved: dict[str, Any] = {}
            for key, value in definition.items():
                if key in ("vars", "wdir"):
                    continue
                field_name = key
                resolved[key] = resolve(value, ctx, key)
        except InterpolationError as exc:
            raise _fail(f"{where}: {field_name}", str(exc)) from None
        stage = build_stage(name, resolved, wdir, where)
        tracked = tuple(ParamsSpec(f, tuple(keys)) for f, keys in ctx.tracked.items())
        return Stage(**{**stage.__dict__, "tracked_vars": tracked})

    def _generated(
        self, name: str, definition: Mapping[str, Any], ctx: Context, where: str
    ) -> list[Stage]:
        if "foreach" in definition:
            _check_keys(definition, frozenset({"foreach", "do"}), where)
            if "do" not in definition or not isinstance(definition["do"], dict):
                raise _fail(where, "a foreach stage needs a 'do' mapping")
            template = definition["do"]
            items = self._resolve_iterable(definition["foreach"], ctx, f"{where}: foreach")
            if isinstance(items, dict):
                keyed = {to_str(k): v for k, v in items.items()}
                with_key = True
            elif any(isinstance(v, dict | list) for v in items):
                keyed = {str(i): v for i, v in enumerate(items)}
                with_key = False
            else:
                keyed = {to_str(v): v for v in items}
                with_key = False
            combos = [
                (k, {"item": v, **({"key": k} if with_key else {})}) for k, v in keyed.items()
            ]
        else:
            _check_keys(definition, _STAGE_KEYS | {"matrix"}, where)
            template = {k: v for k, v in definition.items() if k != "matrix"}
            matrix = self._resolve_iterable(definition["matrix"], ctx, f"{where}: matrix")
            if not isinstance(matrix, dict) or not all(
                isinstance(v, list) and v for v in matrix.values()
            ):
                raise _fail(f"{where}: matrix", "must map names to non-empty lists")
            combos = []
            axes = [list(enumerate(values)) for values in matrix.values()]
            for combination in itertools.product(*axes):
                item: dict[str, Any] = {}
                fragments = []
                for axis, (i, value) in zip(matrix, combination, strict=True):
                    item[str(axis)] = value
                    composite = isinstance(value, dict | list)
                    fragments.append(f"{axis}{i}" if composite else to_str(value))
                key = "-".join(fragments)
                combos.append((key, {"item": item, "key": key}))
        stages = []
        for key, values in combos:
            if not key or any(c in key for c in "/\\:") or any(ord(c) < 32 for c in key):
                raise _fail(where, f"generated stage name '{name}@{key[:60]}' is not usable")
            generated = f"{name}@{key}"
            with ctx.temporarily(values):
                stages.append(
                    self._entry(generated, template, ctx, f"{self.file}: stage '{generated}'")
                )
        return stages

    def _resolve_iterable(self, data: Any, ctx: Context, where: str) -> Any:
        try:
            value = resolve(data, ctx, None)
        except InterpolationError as exc:
            raise _fail(where, str(exc)) from None
        if not isinstance(value, dict | list) or not value:
            raise _fail(where, "must be a non-empty list or mapping")
        return value


def parse_pipeline(
    data: bytes,
    root: Path,
    file: str = PIPELINE_FILE,
    *,
    rev: str | None = None,
    read: ReadAt | None = None,
) -> Pipeline:
    """One gitml.yaml (`file`, workspace-relative); its paths are relative to its folder.
    With `rev`, its vars and params files are read at that git revision (by `read`, when
    given: relpath -> bytes there, None if absent; `rev` then only names it)."""
    where = f"{rev}:{file}" if rev is not None else file
    base = posixpath.dirname(file)
    return _Parser(root, where, rev, base, read).parse(load_yaml(data, where))
