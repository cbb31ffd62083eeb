"""Registry references as revisions: `NAME@vX.Y.Z`, `NAME@latest`, `NAME#STAGE` (SPEC 7.4),
and the resolver `gitml.revisions` tries before plain git."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gitml.registry import tags as fmt
from gitml.registry.state import Registry, Version, read

_REF = re.compile(
    rf"^(?P<name>(?:[a-zA-Z0-9-_./]+:)?{fmt.NAME})"
    rf"(?:#(?P<stage>{fmt.NAME})|@(?P<version>latest|greatest|v\S+))?$"
)


@dataclass(frozen=True)
class Reference:
    name: str
    version: str | None = None  # "latest" for @latest and for a bare NAME
    stage: str | None = None

    def __str__(self) -> str:
        if self.stage:
            return f"{self.name}#{self.stage}"
        return f"{self.name}@{self.version}"


def parse_reference(text: str, *, bare: bool = False) -> Reference | None:
    """The reference `text` spells; None when it is not one (`bare`: NAME alone counts,
    meaning the latest version)."""
    match = _REF.match(text)
    if match is None:
        return None
    if match["stage"]:
        return Reference(match["name"], stage=match["stage"])
    if match["version"]:
        version = "latest" if match["version"] in ("latest", "greatest") else match["version"]
        return Reference(match["name"], version=version)
    return Reference(match["name"], version="latest") if bare else None


def lookup(registry: Registry, ref: Reference) -> Version | None:
    """The version `ref` names, None when the registry has none for it."""
    model = registry.model(ref.name)
    if model is None:
        return None
    if ref.stage is not None:
        held = model.stages.get(ref.stage)
        return model.versions.get(held) if held else None
    if ref.version == "latest":
        return model.latest()
    found = model.versions.get(ref.version or "")
    return found if found is not None and found.registered else None


def resolve(root: Path, text: str) -> str | None:
    """The commit a registry reference names; None when `text` is not one, so the next
    resolver (experiments, git) gets it. Cheap for ordinary revisions: no '@' or '#'."""
    if "@" not in text and "#" not in text:
        return None
    ref = parse_reference(text)
    if ref is None:
        return None
    registry = read(root)
    if registry.model(ref.name) is None:
        return None  # a branch or tag that merely contains '@' or '#' is git's
    found = lookup(registry, ref)
    if found is None:
        if ref.stage is None and ref.version != "latest":
            return None
        from gitml.errors import GitError

        what = f"no version in stage '{ref.stage}'" if ref.stage else "no registered version"
        raise GitError(f"{text}: model '{ref.name}' has {what}")
    return found.commit
