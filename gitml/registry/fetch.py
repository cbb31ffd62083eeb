"""`model get`: a model version's bytes, hash-verified, from this workspace, another local
repository or a git URL, without a checkout (the step a deployment job runs).

For a git URL the registry is read with `git ls-remote --tags` (no clone): stage history
is then ordered by GTO's tag counter, as tag dates are not listed. The bytes come through
`gitml get` at the version's tag.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitml.errors import GitError, GitmlError
from gitml.ops.get import GetResult, get
from gitml.progress import Progress
from gitml.registry.ops import RegistryError, artifact_path
from gitml.registry.refs import lookup, parse_reference
from gitml.registry.state import Registry, TagRecord, Version, build, read
from gitml.repo import is_git_url


def remote_registry(url: str) -> Registry:
    try:
        proc = subprocess.run(
            ["git", "ls-remote", "--tags", "--", url],
            capture_output=True, check=False, env=_no_prompt(),
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"cannot list tags of {url}: {lines[-1] if lines else 'git failed'}")
    return build(parse_ls_remote(proc.stdout.decode("utf-8", "replace")))


def _no_prompt() -> dict[str, str]:
    import os

    return {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


def parse_ls_remote(text: str) -> list[TagRecord]:
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in text.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref[len("refs/tags/") :]
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            direct[name] = sha
    return [
        TagRecord(name, peeled.get(name, sha), annotated=name in peeled)
        for name, sha in direct.items()
    ]


def get_model(
    text: str,
    *,
    root: Path | None,
    repo: str | None = None,
    out: str | None = None,
    remote: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> tuple[Version, GetResult]:
    ref = parse_reference(text, bare=True)
    if ref is None:
        raise RegistryError(f"'{text}' is not a model reference (NAME, NAME@vX.Y.Z, NAME#STAGE)")
    if repo is not None and is_git_url(repo):
        registry = remote_registry(repo)
        source = repo
    else:
        base = Path(repo) if repo is not None else root
        if base is None or not base.is_dir():
            raise GitmlError(f"repository {repo}: no such directory")
        registry = read(base)
        source = str(base)
    if registry.model(ref.name) is None:
        raise RegistryError(f"no model named '{ref.name}' in the registry of {source}")
    version = lookup(registry, ref)
    if version is None:
        what = f"stage '{ref.stage}' is empty" if ref.stage else "no such version"
        raise RegistryError(f"{text}: {what}")
    rev = version.tag if version.registered and is_git_url(source) else version.commit
    path = version.path or _path_at(source, rev, version)
    result = get(source, path, rev=rev, out=out, remote=remote, force=force, progress=progress)
    return version, result


def _path_at(source: str, rev: str, version: Version) -> str:
    from gitml.repo import DataRepo

    with DataRepo.open(source, rev) as data_repo:
        path = artifact_path(data_repo.git_root, version.commit, version.name)
    if path is None:
        raise RegistryError(
            f"{version.name} {version.version}: no path recorded in its tag and no "
            f"artifacts.{version.name}.path in gitml.yaml at {version.commit[:7]}"
        )
    return path
