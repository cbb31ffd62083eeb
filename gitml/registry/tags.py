"""GTO's git tag format, read and written (SPEC 7.4): the registry is only annotated tags.

    NAME@vX.Y.Z            register version vX.Y.Z at the tagged commit
    NAME@vX.Y.Z!#N         deregister it
    NAME#STAGE#N           assign STAGE to the version registered at the tagged commit
    NAME#STAGE!#N          unassign STAGE from it
    NAME@deprecated#N      deprecate the model

N counts up over all of NAME's tags (GTO's "simple" tags omit it). A name in a tag may
hold `=` where the model name holds `:` (`dir:model` is written `dir=model`). Names,
stages and the SemVer grammar are GTO's own (gto/constants.py), so what one tool writes
the other reads.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9-_./]+"
_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_FULLNAME_IN_TAG = f"(?:{_DIRNAME}=)?{NAME}"
TAG_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME_IN_TAG})"
    rf"(?:(?:#(?P<stage>{NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
    r"(?:#(?P<counter>[0-9]+))?$"
)
NAME_RE = re.compile(f"^(?:{_DIRNAME}:)?{NAME}$")
STAGE_RE = re.compile(f"^{NAME}$")
VERSION_RE = re.compile(f"^v{_SEMVER}$")
# A tag that GTO's format claims but does not parse: a name, then '@' or '#'.
LOOKS_LIKE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-/_.=]*[@#]")

REGISTER, DEREGISTER, ASSIGN, UNASSIGN, DEPRECATE = (
    "register", "deregister", "assign", "unassign", "deprecate",
)  # fmt: skip


class ParsedTag(NamedTuple):
    tag: str
    action: str
    name: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse_tag(tag: str) -> ParsedTag | None:
    """The registry event a tag name records; None when it is not one."""
    match = TAG_RE.match(tag)
    if match is None:
        return None
    name = match["artifact"].replace("=", ":")
    counter = int(match["counter"]) if match["counter"] else None
    cancel = match["cancel"] == "!"
    if match["deprecated"]:
        return ParsedTag(tag, DEPRECATE, name, counter=counter)
    if match["version"]:
        action = DEREGISTER if cancel else REGISTER
        return ParsedTag(tag, action, name, version=match["version"], counter=counter)
    action = UNASSIGN if cancel else ASSIGN
    return ParsedTag(tag, action, name, stage=match["stage"], counter=counter)


def looks_like_registry_tag(tag: str) -> bool:
    return bool(LOOKS_LIKE.match(tag))


def _in_tag(name: str) -> str:
    return name.replace(":", "=")


def version_tag(name: str, version: str) -> str:
    return f"{_in_tag(name)}@{version}"


def assign_tag(name: str, stage: str, counter: int) -> str:
    return f"{_in_tag(name)}#{stage}#{counter}"


def unassign_tag(name: str, stage: str, counter: int) -> str:
    return f"{_in_tag(name)}#{stage}!#{counter}"


# GTO's default annotated-tag messages, so `gto show`/`gto history` read the same text.
def register_message(name: str, version: str) -> str:
    return f"Registering artifact {name} version {version}"


def assign_message(name: str, stage: str, version: str) -> str:
    return f"Assigning stage {stage} to artifact {name} version {version}"


def unassign_message(name: str, stage: str, version: str) -> str:
    return f"Unassigning stage '{stage}' to artifact '{name}' version '{version}'"


SemVer = tuple[int, int, int, tuple[tuple[int, int | str], ...]]


@lru_cache(maxsize=4096)
def semver_key(version: str) -> SemVer:
    """Sort key of `vX.Y.Z[-pre][+build]` in SemVer precedence (a release sorts after
    its pre-releases; build metadata is ignored)."""
    match = VERSION_RE.match(version)
    if match is None:
        raise ValueError(f"not a SemVer version: {version}")
    major, minor, patch, pre = int(match[1]), int(match[2]), int(match[3]), match[4]
    if not pre:
        return (major, minor, patch, ((2, 0),))
    parts: list[tuple[int, int | str]] = [
        (0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")
    ]
    return (major, minor, patch, tuple(parts))


def bump(version: str, part: str) -> str:
    major, minor, patch, _ = semver_key(version)
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"
