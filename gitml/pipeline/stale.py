"""Why a stage must run again: compare its declaration and the workspace with its lock
entry. Pure: the caller observes the workspace and reads the params."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gitml.pipeline.model import LockedPath, LockEntry, Stage
from gitml.pipeline.params import MISSING, canonical


class ReasonKind(Enum):
    NEVER_RUN = "never run"
    ALWAYS_CHANGED = "always changed"
    CMD_CHANGED = "cmd changed"
    DEP_CHANGED = "dep changed"
    DEP_MISSING = "dep missing"
    PARAM_CHANGED = "param changed"
    PARAM_MISSING = "param missing"
    OUT_CHANGED = "out changed"
    OUT_MISSING = "out missing"
    UPSTREAM = "upstream stage will run"  # only in --dry plans
    FORCED = "forced"


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    subject: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.subject}" if self.subject else self.kind.value

    def to_json(self) -> dict[str, str]:
        data = {"reason": self.kind.value}
        if self.subject:
            data["subject"] = self.subject
        return data


@dataclass(frozen=True)
class Observed:
    """The workspace as the stage would see it now."""

    paths: Mapping[str, LockedPath | None]  # dep/out path -> current content (None: missing)
    params: Mapping[str, Mapping[str, Any]]  # params file -> key -> value (or MISSING)


def _path_reasons(
    declared: tuple[str, ...],
    locked: tuple[LockedPath, ...],
    observed: Observed,
    changed: ReasonKind,
    missing: ReasonKind,
) -> list[Reason]:
    reasons = []
    previous = {p.path: p for p in locked}
    for path in declared:
        now = observed.paths.get(path)
        if now is None:
            reasons.append(Reason(missing, path))
        elif not now.same_content(previous.get(path)):
            reasons.append(Reason(changed, path))
    for path in sorted(set(previous) - set(declared)):
        reasons.append(Reason(changed, f"{path} (no longer declared)"))
    return reasons


def _param_reasons(stage: Stage, entry: LockEntry, observed: Observed) -> list[Reason]:
    reasons = []
    declared_files = set()
    for spec in stage.params:
        declared_files.add(spec.file)
        current = observed.params.get(spec.file, {})
        before = entry.params.get(spec.file, {})
        keys = spec.keys if spec.keys is not None else tuple(sorted(set(current) | set(before)))
        for key in keys:
            value = current.get(key, MISSING)
            if value is MISSING:
                if spec.keys is not None or key in before:
                    kind = ReasonKind.PARAM_MISSING if spec.keys else ReasonKind.PARAM_CHANGED
                    reasons.append(Reason(kind, f"{spec.file}:{key}"))
            elif key not in before or canonical(before[key]) != canonical(value):
                reasons.append(Reason(ReasonKind.PARAM_CHANGED, f"{spec.file}:{key}"))
        if spec.keys is not None:
            for key in sorted(set(before) - set(spec.keys)):
                reasons.append(Reason(ReasonKind.PARAM_CHANGED, f"{spec.file}:{key} (removed)"))
    for file in sorted(set(entry.params) - declared_files):
        reasons.append(Reason(ReasonKind.PARAM_CHANGED, f"{file} (no longer declared)"))
    return reasons


def why_stale(stage: Stage, entry: LockEntry | None, observed: Observed) -> list[Reason]:
    """Every reason the stage is out of date; empty when its lock entry still holds."""
    if entry is None:
        return [Reason(ReasonKind.NEVER_RUN)]
    reasons = []
    if stage.always_changed:
        reasons.append(Reason(ReasonKind.ALWAYS_CHANGED))
    if entry.cmd != stage.cmd or entry.wdir != stage.wdir:
        reasons.append(Reason(ReasonKind.CMD_CHANGED))
    reasons += _path_reasons(
        stage.deps, entry.deps, observed, ReasonKind.DEP_CHANGED, ReasonKind.DEP_MISSING
    )
    reasons += _param_reasons(stage, entry, observed)
    reasons += _path_reasons(
        tuple(o.path for o in stage.outs),
        entry.outs,
        observed,
        ReasonKind.OUT_CHANGED,
        ReasonKind.OUT_MISSING,
    )
    return reasons


def missing_deps(stage: Stage, observed: Observed) -> list[str]:
    return [d for d in stage.deps if observed.paths.get(d) is None]
