"""One place that turns what a user typed as a revision into a commit id.

Accepted, tried in this order (SPEC 7.1):
- a model registry reference: `NAME@vX.Y.Z`, `NAME@latest`, `NAME#STAGE` (7.4);
- an experiment name (7.2), a ref under `refs/gitml/exps/`;
- anything `git rev-parse` understands (branch, tag, sha, `HEAD~1`).

Each kind is a resolver: a function `(root, text) -> commit id | None` that returns None
when `text` is not of its kind. A new kind of reference is one resolver appended to
`RESOLVERS`; callers only ever use `resolve`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitml import git

Resolver = Callable[[Path, str], str | None]


def _git_revision(root: Path, text: str) -> str | None:
    return git.resolve_commit(root, text)


def _experiment(root: Path, text: str) -> str | None:
    from gitml.exp.refs import resolve as resolve_experiment

    return resolve_experiment(root, text)


# Specific kinds first; plain git last because it raises (with git's wording) on failure.
RESOLVERS: list[Resolver] = []
RESOLVERS.append(_experiment)


def _registry_reference(root: Path, text: str) -> str | None:
    from gitml.registry.refs import resolve as resolve_registry

    return resolve_registry(root, text)


RESOLVERS.insert(0, _registry_reference)


def resolve(root: Path, text: str) -> str:
    """The commit id that `text` names; a one-line GitmlError when it names none."""
    for resolver in RESOLVERS:
        commit = resolver(root, text)
        if commit is not None:
            return commit
    commit = _git_revision(root, text)
    assert commit is not None
    return commit
