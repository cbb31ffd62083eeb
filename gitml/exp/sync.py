"""`exp push` / `exp pull`: experiment refs through a git remote, their outputs (the
cached outs of each experiment's gitml.lock) through the gitml remote."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitml import git
from gitml.errors import GitmlError
from gitml.exp import EXPS_NAMESPACE, refs
from gitml.exp.apply import find_or_fail
from gitml.exp.refs import QUEUED, ExpRef
from gitml.pipeline import LOCK_FILE
from gitml.workspace import Workspace


@dataclass
class ExpSync:
    experiments: list[str] = field(default_factory=list)
    objects: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def check_git_remote(root: Path, remote: str) -> None:
    """A configured git remote name, or something git can use as a URL or path."""
    names = git.run_bytes(root, ["remote"]).decode().split()
    if remote in names or "/" in remote or ":" in remote:
        return
    raise GitmlError(
        f"no git remote named {remote!r}",
        hint="list them with 'git remote -v'; add one with 'git remote add NAME URL'",
    )


def _require_locks(root: Path, exps: list[ExpRef]) -> None:
    with git.CatFile(root) as cat:
        for exp in exps:
            if exp.state != QUEUED and cat.read_path(exp.commit, LOCK_FILE) is None:
                raise GitmlError(
                    f"experiment {exp.name!r} ({exp.commit[:7]}) has no {LOCK_FILE}: "
                    "it is not a gitml experiment commit"
                )


def _select(root: Path, names: list[str], all_baselines: bool) -> list[ExpRef]:
    if names:
        return [find_or_fail(root, n) for n in names]
    return refs.list_refs(root, None if all_baselines else git.head_commit(root))


def push(
    ws: Workspace,
    git_remote: str,
    names: list[str],
    *,
    all_baselines: bool = False,
    gitml_remote: str | None = None,
) -> ExpSync:
    """Outputs first (so a ref on the remote never names data that is not there), then refs."""
    from gitml.ops.push import push as push_objects

    root = ws.root
    check_git_remote(root, git_remote)
    exps = _select(root, names, all_baselines)
    result = ExpSync([e.name for e in exps])
    if not exps:
        return result
    _require_locks(root, exps)
    ran = [e.commit for e in exps if e.state != QUEUED]
    if ran:
        pushed = push_objects(ws, gitml_remote, revs=ran)
        result.objects = len(pushed.transferred)
        result.failed = list(pushed.failed)
        if result.failed:
            return result
    git.run_bytes(root, ["push", "--quiet", git_remote, *[f"{e.ref}:{e.ref}" for e in exps]])
    return result


def pull(
    ws: Workspace,
    git_remote: str,
    names: list[str],
    *,
    all_baselines: bool = False,
    gitml_remote: str | None = None,
) -> ExpSync:
    from gitml.ops.pull import fetch as fetch_objects

    root = ws.root
    check_git_remote(root, git_remote)
    out = git.run_bytes(root, ["ls-remote", "--refs", git_remote, f"{EXPS_NAMESPACE}/*"])
    head = git.head_commit(root)
    remote_refs: list[tuple[str, str, str]] = []  # (ref, baseline, name)
    for line in out.decode().splitlines():
        _, _, ref = line.partition("\t")
        base, _, name = ref.removeprefix(EXPS_NAMESPACE + "/").partition("/")
        if names and name not in names:
            continue
        if not names and not all_baselines and base != head:
            continue
        remote_refs.append((ref, base, name))
    missing = [n for n in names if n not in {name for _, _, name in remote_refs}]
    if missing:
        raise GitmlError(f"no experiment named {missing[0]!r} on git remote {git_remote!r}")
    result = ExpSync([name for _, _, name in remote_refs])
    if not remote_refs:
        return result
    git.run_bytes(
        root, ["fetch", "--quiet", git_remote, *[f"+{ref}:{ref}" for ref, _, _ in remote_refs]]
    )
    wanted = {ref for ref, _, _ in remote_refs}
    exps = [e for e in refs.list_refs(root) if e.ref in wanted]
    try:
        _require_locks(root, exps)
    except GitmlError:
        for exp in exps:  # nothing of a refused pull stays behind
            refs.delete_ref(root, exp)
        raise
    ran = [e.commit for e in exps if e.state != QUEUED]
    if ran:
        fetched = fetch_objects(ws, gitml_remote, revs=ran, run_cache=False)
        result.objects = len(fetched.transferred)
        result.failed = list(fetched.failed)
    return result
