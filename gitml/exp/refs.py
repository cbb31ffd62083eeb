"""Experiments as git objects: one commit per experiment, under a ref.

Layout: `refs/gitml/exps/<baseline commit>/<name>`. The commit's parent is the baseline;
its tree is the baseline's plus the workspace's changes to git-tracked files, the params
files, `gitml.lock` and the metrics files (cached metrics outs included, so git can read
them). Its message is `gitml experiment NAME`, a blank line and one `gitml-exp: {JSON}`
line (state, times, run metadata): every experiment's record comes out of one
`git for-each-ref`, and its files out of one `git cat-file --batch`.

Commits are built with plumbing in a temporary index (GIT_INDEX_FILE, write-tree,
commit-tree, update-ref): the user's index, HEAD and branch are never touched.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import git
from gitml.errors import GitError, GitmlError, UsageError
from gitml.exp import EXPS_NAMESPACE

_INFO_PREFIX = "gitml-exp: "
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
QUEUED, RUNNING, SUCCESS, FAILED = "queued", "running", "success", "failed"


@dataclass
class ExpRef:
    baseline: str
    name: str
    commit: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return ref_name(self.baseline, self.name)

    @property
    def state(self) -> str:
        return str(self.info.get("state", SUCCESS))


def baseline_of(root: Path) -> str:
    """HEAD's commit: the baseline new experiments start from and `exp show` lists."""
    head = git.head_commit(root)
    if head is None:
        raise GitmlError(
            "experiments need a baseline commit, and this repository has none yet",
            hint="commit gitml.yaml, gitml.lock and the params files first",
        )
    return head


def ref_name(baseline: str, name: str) -> str:
    return f"{EXPS_NAMESPACE}/{baseline}/{name}"


def check_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith(".lock") or ".." in name:
        raise UsageError(
            f"invalid experiment name {name!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit)"
        )
    return name


def message(name: str, info: dict[str, Any]) -> str:
    body = json.dumps(info, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"gitml experiment {name}\n\n{_INFO_PREFIX}{body}\n"


def parse_info(text: str) -> dict[str, Any]:
    for line in text.splitlines():
        if line.startswith(_INFO_PREFIX):
            try:
                info = json.loads(line[len(_INFO_PREFIX) :])
            except json.JSONDecodeError:
                return {}
            return info if isinstance(info, dict) else {}
    return {}


def list_refs(root: Path, baseline: str | None = None) -> list[ExpRef]:
    """Every experiment (of `baseline` only, when given), from one `git for-each-ref`."""
    namespace = f"{EXPS_NAMESPACE}/{baseline}/" if baseline else f"{EXPS_NAMESPACE}/"
    out = git.run_bytes(
        root, ["for-each-ref", "--format=%(refname)%00%(objectname)%00%(contents)%00", namespace]
    )
    fields = out.decode("utf-8", "replace").split("\0")
    found = []
    for i in range(0, len(fields) - 2, 3):
        refname = fields[i].lstrip("\n")
        rest = refname.removeprefix(EXPS_NAMESPACE + "/")
        base, _, name = rest.partition("/")
        if not name or "/" in name:
            continue
        found.append(ExpRef(base, name, fields[i + 1], parse_info(fields[i + 2])))
    return found


def find(root: Path, name: str, head: str | None = None) -> ExpRef | None:
    """The experiment called `name`: of the baseline `head` if it has one, else the only
    one by that name; an error when several baselines have one and none is `head`."""
    if not _NAME.match(name):
        return None
    matches = [e for e in list_refs(root) if e.name == name]
    if head is not None:
        for e in matches:
            if e.baseline == head:
                return e
    if len(matches) > 1:
        raise GitmlError(
            f"experiment name {name!r} is used on {len(matches)} baselines",
            hint="check out the baseline commit you mean, or use the experiment's commit id",
        )
    return matches[0] if matches else None


def resolve(root: Path, text: str) -> str | None:
    """Resolver for gitml.revisions: an experiment name -> its commit."""
    if not _NAME.match(text):
        return None
    found = find(root, text, git.head_commit(root))
    return found.commit if found is not None else None


def build_commit(
    root: Path,
    tmp_dir: Path,
    baseline: str,
    files: list[str],
    name: str,
    info: dict[str, Any],
) -> str:
    """A commit on `baseline` holding the work tree's changes to tracked files and
    `files` as they are in the work tree (followed through links; absent ones are left
    as they were)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    index = tmp_dir / f"exp-index-{os.getpid()}-{threading.get_ident()}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        git.run_bytes(root, ["read-tree", baseline], env=env)
        git.run_bytes(root, ["add", "-u", "--", "."], env=env)
        present = [rel for rel in dict.fromkeys(files) if (root / rel).is_file()]
        if present:
            # hash-object opens each path, so a link into the cache records its content.
            listing = "".join(str(root / rel) + "\n" for rel in present).encode()
            ids = (
                git.run_bytes(
                    root, ["hash-object", "-w", "--no-filters", "--stdin-paths"], input=listing
                )
                .decode()
                .split()
            )
            lines = [
                f"{'100755' if os.access(root / rel, os.X_OK) else '100644'} {blob}\t{rel}\n"
                for rel, blob in zip(present, ids, strict=True)
            ]
            git.run_bytes(
                root, ["update-index", "--index-info"], env=env, input="".join(lines).encode()
            )
        tree = git.run_bytes(root, ["write-tree"], env=env).decode().strip()
    finally:
        index.unlink(missing_ok=True)
    return commit_tree(root, tree, baseline, message(name, info))


def placeholder_commit(root: Path, baseline: str, name: str, info: dict[str, Any]) -> str:
    """A commit with the baseline's tree: what a ref points at while its run goes on."""
    return commit_tree(root, f"{baseline}^{{tree}}", baseline, message(name, info))


def commit_tree(root: Path, tree: str, parent: str, text: str) -> str:
    out = git.run_bytes(root, ["commit-tree", tree, "-p", parent], input=text.encode())
    return out.decode().strip()


def create_ref(root: Path, baseline: str, name: str, commit: str) -> None:
    """Point a new experiment ref at `commit`; fails when the name is taken (atomically)."""
    try:
        git.run_bytes(root, ["update-ref", ref_name(baseline, name), commit, ""])
    except GitError:
        raise name_taken(baseline, name) from None


def move_ref(root: Path, baseline: str, name: str, commit: str, old: str) -> None:
    git.run_bytes(root, ["update-ref", ref_name(baseline, name), commit, old])


def delete_ref(root: Path, exp: ExpRef) -> None:
    git.run_bytes(root, ["update-ref", "-d", exp.ref, exp.commit])


def name_taken(baseline: str, name: str) -> GitmlError:
    return GitmlError(
        f"experiment '{name}' already exists on baseline {baseline[:7]}",
        hint="choose another name with -n, or remove it with 'gitml exp rm " + name + "'",
    )
