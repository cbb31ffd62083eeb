"""Registering, promoting and demoting models: annotated tags in GTO's format, made with
`git tag -a` so they travel with `git push --tags` like any release tag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitml import git, revisions
from gitml.errors import GitmlError, ObjectNotFoundError, PathError, UsageError
from gitml.registry import tags as fmt
from gitml.registry.state import PATH_TRAILER, Model, Registry, Version, read
from gitml.workspace import Workspace

BUMPS = ("major", "minor", "patch")
FIRST_VERSION = "v0.0.1"


class RegistryError(GitmlError):
    """A registry operation that cannot be done: an existing version, an empty stage, ..."""


@dataclass(frozen=True)
class Registered:
    name: str
    version: str
    commit: str
    tag: str
    path: str


def check_name(name: str) -> None:
    if not fmt.NAME_RE.match(name):
        raise RegistryError(
            f"invalid model name '{name}': use letters, digits, '-', '_' and '/', "
            "starting and ending with a letter or digit"
        )


def check_stage(stage: str) -> None:
    if not fmt.STAGE_RE.match(stage):
        raise RegistryError(
            f"invalid stage name '{stage}': use letters, digits, '-', '_' and '/', "
            "starting and ending with a letter or digit"
        )


def create_tag(root: Path, tag: str, commit: str, message: str) -> None:
    try:
        git.run_bytes(root, ["tag", "-a", "-m", message, tag, commit])
    except GitmlError as exc:
        if "already exists" in exc.message:
            raise RegistryError(f"tag '{tag}' already exists") from None
        raise


def artifact_path(root: Path, commit: str, name: str) -> str | None:
    """`artifacts: {NAME: {path: ...}}` of gitml.yaml at `commit`, if declared."""
    from gitml.pipeline import PIPELINE_FILE
    from gitml.pipeline.params import parse

    with git.CatFile(root) as cat:
        data = cat.read_path(commit, PIPELINE_FILE)
    if data is None:
        return None
    try:
        artifacts = parse(data, f"{commit[:7]}:{PIPELINE_FILE}").get("artifacts") or {}
    except GitmlError:
        return None
    entry = artifacts.get(name) if isinstance(artifacts, dict) else None
    path = entry.get("path") if isinstance(entry, dict) else None
    return str(path) if isinstance(path, str) and path else None


def next_version(model: Model | None, version: str | None, bump: str | None) -> str:
    if version is not None:
        if not fmt.VERSION_RE.match(version):
            raise RegistryError(f"version '{version}' is not SemVer (vMAJOR.MINOR.PATCH)")
        if model is not None and version in model.versions:
            version_info = model.versions[version]
            raise RegistryError(
                f"{model.name} {version} is already registered (at {version_info.commit[:7]})"
            )
        return version
    if bump is not None and bump not in BUMPS:
        raise UsageError(f"--bump must be one of {', '.join(BUMPS)}, not '{bump}'")
    latest = model.latest() if model is not None else None
    return FIRST_VERSION if latest is None else fmt.bump(latest.version, bump or "patch")


def register(
    ws: Workspace,
    name: str,
    rev: str | None = None,
    *,
    path: str | None = None,
    version: str | None = None,
    bump: str | None = None,
    message: str | None = None,
) -> Registered:
    from gitml.ops.get import normalize_repo_path

    check_name(name)
    if version is not None and bump is not None:
        raise UsageError("give --version or --bump, not both")
    label = rev or "HEAD"
    commit = revisions.resolve(ws.root, label)
    model = read(ws.root).model(name)
    existing = model.at_commit(commit) if model is not None else None
    if existing is not None:
        raise RegistryError(f"{name} is already registered at {label} as {existing.version}")
    new_version = next_version(model, version, bump)
    if path is None:
        path = artifact_path(ws.root, commit, name)
        if path is None:
            raise RegistryError(
                f"no path for model '{name}' at {label}",
                hint=f"pass --path, or declare artifacts: {{{name}: {{path: ...}}}} in gitml.yaml",
            )
    path = normalize_repo_path(path)
    _check_output(ws, commit, label, path)
    tag = fmt.version_tag(name, new_version)
    text = message or fmt.register_message(name, new_version)
    create_tag(ws.root, tag, commit, f"{text}\n\n{PATH_TRAILER}{path}\n")
    return Registered(name, new_version, commit, tag, path)


def _check_output(ws: Workspace, commit: str, label: str, path: str) -> None:
    """`path` is a tracked output or stage out at `commit` whose bytes are in the cache
    or on the default remote."""
    from gitml.outputs import revision_outputs

    with git.CatFile(ws.root) as cat:
        outputs = revision_outputs(ws.root, commit, cat)
    output = outputs.get(path)
    if output is None:
        raise PathError(f"{path} is not a tracked output or stage out at {label}")
    pointer = output.pointer
    if ws.cache.exists(pointer.oid) and (
        pointer.kind == "file" or ws.cache.has_manifest_objects(pointer.oid)
    ):
        return
    from gitml.repo import DataRepo

    try:
        with DataRepo.for_workspace(ws) as data_repo:
            store = data_repo.open_store()
            present = pointer.oid in store.present([pointer.oid])
            if present and pointer.kind == "dir":
                present = pointer.oid in store.complete_dirs([pointer.oid])
    except GitmlError as exc:
        raise ObjectNotFoundError(
            f"{path} at {label}: its bytes are not in the cache, and the remote cannot be "
            f"checked ({exc.message})",
            hint="run 'gitml push' before registering, so others can get the model",
        ) from None
    if not present:
        raise ObjectNotFoundError(
            f"{path} at {label}: its bytes are neither in the cache nor on the default remote",
            hint="run 'gitml pull' or 'gitml repro' to make them, then 'gitml push'",
        )


def find_version(registry: Registry, name: str, version: str) -> tuple[Model, Version]:
    model = registry.model(name)
    if model is None:
        raise RegistryError(f"no model named '{name}' in the registry")
    if version == "latest":
        found = model.latest()
        if found is None:
            raise RegistryError(f"model '{name}' has no registered version")
        return model, found
    if version not in model.versions or not model.versions[version].registered:
        known = ", ".join(sorted(v for v, x in model.versions.items() if x.registered)) or "none"
        raise RegistryError(f"{name} has no version {version} (registered: {known})")
    return model, model.versions[version]


def stage_holder(model: Model, stage: str) -> Version | None:
    held = model.stages.get(stage)
    return model.versions.get(held) if held else None


def promote(root: Path, name: str, version: str, stage: str) -> list[str]:
    """Assign `stage` to that version; other versions in the stage are unassigned so the
    stage holds one version (GTO would otherwise show the highest SemVer). The tags made."""
    check_stage(stage)
    registry = read(root)
    model, target = find_version(registry, name, version)
    if stage_holder(model, stage) is target and model.active.get(stage) == {target.version}:
        raise RegistryError(f"{name} {target.version} is already in stage '{stage}'")
    counter = model.counter
    made = []
    for other in sorted(model.active.get(stage, set()) - {target.version}):
        counter += 1
        held = model.versions[other]
        tag = fmt.unassign_tag(name, stage, counter)
        create_tag(root, tag, held.commit, fmt.unassign_message(name, stage, other))
        made.append(tag)
    counter += 1
    tag = fmt.assign_tag(name, stage, counter)
    create_tag(root, tag, target.commit, fmt.assign_message(name, stage, target.version))
    return [tag, *made]


def demote(root: Path, name: str, stage: str) -> list[str]:
    """Leave `stage` empty for `name`: one unassign tag per version in it."""
    check_stage(stage)
    registry = read(root)
    model = registry.model(name)
    if model is None:
        raise RegistryError(f"no model named '{name}' in the registry")
    holders = sorted(model.active.get(stage, set()))
    if not holders:
        raise RegistryError(f"stage '{stage}' of {name} is already empty")
    counter = model.counter
    made = []
    for held in holders:
        counter += 1
        tag = fmt.unassign_tag(name, stage, counter)
        create_tag(root, tag, model.versions[held].commit, fmt.unassign_message(name, stage, held))
        made.append(tag)
    return made
