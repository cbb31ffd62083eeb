"""Use cases of the data checks: validate paths, infer a schema, measure drift with stored
profiles, and the hooks `add`/`commit`/`repro` call. Nothing here prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import DataCheckFailedError, SchemaError

if TYPE_CHECKING:
    from gitml.tabular.drift import DriftReport
    from gitml.tabular.profile import Profile
    from gitml.tabular.read import Dataset
    from gitml.tabular.schema import Schema
    from gitml.tabular.validate import Report
    from gitml.workspace import Workspace

PIPELINE_FILE = "gitml.yaml"


# Where schemas are declared ---------------------------------------------------------------


def _pipeline_yaml(ws: Workspace) -> dict[str, Any]:
    path = ws.root / PIPELINE_FILE
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError:
        return {}  # the pipeline commands report a malformed gitml.yaml themselves
    return data if isinstance(data, dict) else {}


def _joined(base: str, path: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)


def declared_schemas(ws: Workspace) -> dict[str, str]:
    """{data path: schema path} (workspace-relative) from `schema:` on stage outs and from
    `checks.schemas` in gitml.yaml."""
    data = _pipeline_yaml(ws)
    found: dict[str, str] = {}
    stages = data.get("stages")
    for stage in (stages or {}).values() if isinstance(stages, dict) else ():
        if not isinstance(stage, dict):
            continue
        wdir = str(stage.get("wdir") or "")
        for out in stage.get("outs") or ():
            if isinstance(out, dict):
                for out_path, options in out.items():
                    if isinstance(options, dict) and options.get("schema"):
                        found[_joined(wdir, str(out_path))] = _joined(wdir, str(options["schema"]))
    checks = data.get("checks")
    schemas = checks.get("schemas") if isinstance(checks, dict) else None
    if isinstance(schemas, dict):
        for target, schema in schemas.items():
            found.setdefault(_joined("", str(target)), _joined("", str(schema)))
    return found


def schema_for(ws: Workspace, relpath: str) -> str | None:
    return declared_schemas(ws).get(relpath)


# Validate ---------------------------------------------------------------------------------


def _dataset(ws: Workspace | None, path: str, rev: str | None) -> Dataset:
    from gitml.tabular.read import open_dataset

    return open_dataset(ws, path, rev)


def validate_path(
    ws: Workspace | None, path: str, schema_file: str | None, rev: str | None = None
) -> Report:
    """`path` (as typed) against `schema_file`, or against the schema gitml.yaml declares."""
    from gitml.tabular.schema import load_schema
    from gitml.tabular.validate import validate

    if schema_file is not None:
        schema = load_schema(Path(schema_file), schema_file)
    else:
        declared = schema_for(ws, ws.relpath(path)) if ws is not None else None
        if declared is None:
            raise SchemaError(
                f"{path}: no schema given and none declared for it in {PIPELINE_FILE}",
                hint="pass --schema FILE, or declare one with `schema:` on the stage out "
                "or under checks.schemas",
            )
        assert ws is not None
        schema = load_schema(ws.root / declared, declared)
    dataset = _dataset(ws, path, rev)
    return validate(dataset, schema, ws.tmp_dir if ws is not None else None)


def infer_schema(ws: Workspace | None, path: str, rev: str | None = None) -> dict[str, Any]:
    from gitml.tabular.validate import infer

    return infer(_dataset(ws, path, rev))


def require_valid(ws: Workspace, relpaths: list[str], why: str) -> None:
    """Raise DataCheckFailedError naming the first declared-schema violation among
    `relpaths` (workspace-relative); paths without a declared schema pass."""
    from gitml.tabular.schema import load_schema

    declared = declared_schemas(ws)
    for relpath in relpaths:
        schema = declared.get(relpath)
        if schema is not None:
            check_valid(
                ws.root / relpath, relpath, load_schema(ws.root / schema, schema), why, ws.tmp_dir
            )


def refuse_invalid(ws: Workspace, relpaths: list[str]) -> None:
    """What `gitml add` and `gitml commit` (of paths and of stages) do before recording
    data: refuse any that breaks its declared schema."""
    require_valid(ws, relpaths, "not recorded (--no-verify records it anyway)")


def schemas_of(ws: Workspace, relpaths: list[str]) -> dict[str, tuple[str, str]]:
    """{data path: (schema path, schema text)} for those of `relpaths` with a declared
    schema, each schema read and parsed here (an executor's worker gets the text)."""
    from gitml.tabular.schema import load_schema

    declared = declared_schemas(ws)
    found: dict[str, tuple[str, str]] = {}
    for relpath in relpaths:
        schema = declared.get(relpath)
        if schema is not None:
            load_schema(ws.root / schema, schema)
            found[relpath] = (schema, (ws.root / schema).read_text(encoding="utf-8"))
    return found


def check_valid(path: Path, relpath: str, schema: Schema, why: str, tmp_dir: Path | None) -> None:
    """Raise DataCheckFailedError naming the first violation of `schema` by the data at
    `path` (shown as `relpath`); `why` says what was refused."""
    from gitml.tabular.read import open_local
    from gitml.tabular.validate import validate

    report = validate(open_local(path, relpath), schema, tmp_dir)
    if not report.passed:
        first = report.violations[0]
        more = f" (and {len(report.violations) - 1} more)" if len(report.violations) > 1 else ""
        column = f"{first.column}: " if first.column else ""
        raise DataCheckFailedError(
            f"{relpath} breaks its schema {schema.source}: {column}{first.check} expected "
            f"{first.expected}, {first.bad_rows} bad rows{more}; {why}",
            hint=f"run 'gitml validate {relpath}' for every violation",
        )


# Drift ------------------------------------------------------------------------------------


def profile_of(ws: Workspace, dataset: Dataset) -> tuple[Profile, str]:
    """The dataset's profile and where it came from: "stored" (the cache had it),
    "fetched" (the default remote had it), "built"
    (computed now and stored, for data at a revision) or "computed" (work-tree data)."""
    from gitml.tabular import profile_store
    from gitml.tabular.profile import build_profile

    if dataset.content_id is not None:
        stored = profile_store.load(ws.cache.root, dataset.content_id)
        if stored is not None:
            return stored, "stored"
        from gitml.tabular.profile_sync import fetch_profile

        fetched = fetch_profile(ws, dataset.content_id)
        if fetched is not None:
            return fetched, "fetched"
    built = build_profile(dataset)
    if dataset.content_id is None:
        return built, "computed"
    profile_store.save(ws.cache.root, dataset.content_id, built, owner=dataset.owner_id)
    return built, "built"


def drift(
    ws: Workspace,
    path: str,
    rev: str,
    against: str | None,
    overrides: dict[str, dict[str, float | None]] | None = None,
) -> DriftReport:
    from gitml.tabular.drift import compare

    reference = _dataset(ws, path, rev)
    current = _dataset(ws, path, against)
    ref_profile, how = profile_of(ws, reference)
    cur_profile, _ = profile_of(ws, current)
    report = compare(
        ref_profile,
        cur_profile,
        overrides,
        reference_label=reference.label,
        current_label=current.label,
    )
    report.reference_profile = how
    return report


# For `gitml check` ------------------------------------------------------------------------


def schema_check(ws: Workspace, target: str, schema: str) -> dict[str, Any]:
    """A `checks.schemas` entry as a check result: {"kind", "target", "passed", ...}."""
    report = validate_path(ws, str(ws.root / target), str(ws.root / schema))
    return {
        "kind": "schema",
        "target": target,
        "schema": schema,
        "passed": report.passed,
        "rows": report.rows,
        "violations": [v.to_json() for v in report.violations],
    }


def drift_check(ws: Workspace, target: str, options: dict[str, Any]) -> dict[str, Any]:
    """A `checks.drift` entry ({rev, against?, thresholds?, columns?}) as a check result."""
    from gitml.tabular.drift import parse_thresholds

    rev = options.get("rev")
    if not isinstance(rev, str):
        raise SchemaError(f"checks.drift.{target}: 'rev' (the reference revision) is required")
    overrides: dict[str, dict[str, float | None]] = {}

    def text(value: Any) -> str:
        return "off" if value is False or value is None else str(value)  # YAML reads off as false

    items = [f"{k}={text(v)}" for k, v in (options.get("thresholds") or {}).items()]
    for column, limits in (options.get("columns") or {}).items():
        items += [f"{column}:{k}={text(v)}" for k, v in (limits or {}).items()]
    overrides = parse_thresholds(items)
    against = options.get("against")
    report = drift(
        ws, str(ws.root / target), rev, against if isinstance(against, str) else None, overrides
    )
    return {"kind": "drift", "target": target, "passed": not report.drifted, **report.to_json()}
