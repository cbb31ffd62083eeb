"""A gitml repository with real history (a tag, a branch, a merge), built through the
installed `gitml` and real git, for the diff / ls / gc / get / API tests.

    v1 (tag)   data/{a.csv, b.csv, sub/c.csv, run.sh (x)}, model.bin
    feature    data/a.csv changed, data/d.csv added, model.bin moved to models/model.bin
    main       more/extra.txt added, then feature merged (a merge commit)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import git, make_repo, run_gitml, write

V1_DATA = {
    "a.csv": b"id,value\n1,alpha\n2,beta\n",
    "b.csv": b"id,value\n3,gamma\n",
    "sub/c.csv": b"id,value\n4,delta\n",
    "run.sh": b"#!/bin/sh\necho run\n",
}
V1_MODEL = b"model-v1\x00" * 1000
A_V2 = b"id,value\n1,ALPHA\n2,beta\n9,new\n"
D_NEW = b"id,value\n5,epsilon\n"
EXTRA = b"extra output on main\n"


@dataclass
class History:
    root: Path
    v1_data: dict[str, bytes] = field(default_factory=lambda: dict(V1_DATA))

    @property
    def head_data(self) -> dict[str, bytes]:
        return {**self.v1_data, "a.csv": A_V2, "d.csv": D_NEW}


def commit_all(root: Path, message: str) -> None:
    """Commit pointer files, .gitignore files and .gitml/ (never data left in the tree)."""
    git("add", "-A", "--", "*.gitml", "*.gitignore", ".gitml", cwd=root)
    git("commit", "-qm", message, cwd=root)


def build(path: Path, configure_remote: object = None) -> History:
    """Make the repository; `configure_remote(root)` (if given) runs before the first
    commit, and every version is pushed to that remote as it is made."""
    root = make_repo(path)
    run_gitml("init", cwd=root)
    for name, data in V1_DATA.items():
        write(root / "data" / name, data)
    (root / "data" / "run.sh").chmod(0o755)
    write(root / "model.bin", V1_MODEL)
    run_gitml("add", "data", "model.bin", cwd=root)
    pushing = configure_remote is not None
    if pushing:
        configure_remote(root)  # type: ignore[operator]
        run_gitml("push", cwd=root)
    commit_all(root, "v1")
    git("tag", "v1", cwd=root)

    git("checkout", "-qb", "feature", cwd=root)
    write(root / "data" / "a.csv", A_V2)
    write(root / "data" / "d.csv", D_NEW)
    run_gitml("commit", "data", cwd=root)
    run_gitml("mv", "model.bin", "models/model.bin", cwd=root)
    if pushing:
        run_gitml("push", cwd=root)
    commit_all(root, "feature: new rows, model moved")

    git("checkout", "-q", "main", cwd=root)
    run_gitml("checkout", cwd=root)
    write(root / "more" / "extra.txt", EXTRA)
    run_gitml("add", "more/extra.txt", cwd=root)
    if pushing:
        run_gitml("push", cwd=root)
    commit_all(root, "main: extra output")
    git("merge", "-q", "--no-edit", "--no-ff", "feature", cwd=root)
    (root / "model.bin").unlink()  # moved on the branch: the old copy is stale
    run_gitml("checkout", cwd=root)
    return History(root)
