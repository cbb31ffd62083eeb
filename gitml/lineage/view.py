"""The files lineage reads (gitml.yaml, gitml.lock, pointers, git blobs and history) as
they are at one git revision, or in the work tree when no revision is given."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gitml import git
from gitml.errors import GitError
from gitml.pipeline.model import LockEntry
from gitml.pipeline.spec import Pipeline
from gitml.pointer import Pointer, parse_pointer, pointer_path_for


@dataclass(frozen=True)
class Change:
    """The commit that last changed a file."""

    commit: str
    author: str
    date: str  # ISO 8601
    subject: str

    def to_json(self) -> dict[str, str]:
        return {
            "commit": self.commit,
            "author": self.author,
            "date": self.date,
            "subject": self.subject,
        }


class RevisionView:
    """Pipeline, lock, pointers and git facts at `rev` (a commit id), or in the work tree
    (`rev` None: history questions are then answered at HEAD)."""

    def __init__(self, root: Path, rev: str | None, label: str | None = None) -> None:
        self.root = root
        self.rev = rev
        self.label = label or (rev[:12] if rev else "workspace")
        self._pipeline: Pipeline | None = None
        self._pipeline_read = False
        self._lock: dict[str, LockEntry] | None = None
        self._tree: dict[str, str] | None = None

    def _read(self, relpath: str) -> bytes | None:
        if self.rev is None:
            try:
                return (self.root / relpath).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        return git.show_file(self.root, self.rev, relpath)

    def pipeline(self) -> Pipeline | None:
        if not self._pipeline_read:
            from gitml.pipeline.project import load_pipelines, load_pipelines_at

            self._pipeline = (
                load_pipelines(self.root)
                if self.rev is None
                else load_pipelines_at(self.root, self.rev)
            )
            self._pipeline_read = True
        return self._pipeline

    def lock(self) -> dict[str, LockEntry]:
        """The lock entry of each stage that has one, keyed as `pipeline().stages` is
        (every gitml.lock beside every gitml.yaml)."""
        if self._lock is None:
            from gitml.pipeline.project import Locks, lock_entries_at

            pipeline = self.pipeline()
            if pipeline is None:
                self._lock = {}
            elif self.rev is None:
                self._lock = Locks.load(self.root, pipeline).entries
            else:
                found = lock_entries_at(self.root, self.rev)
                self._lock = {} if found is None else found[1]
        return self._lock

    def pointer(self, relpath: str) -> Pointer | None:
        pointer_relpath = pointer_path_for(relpath)
        raw = self._read(pointer_relpath)
        if raw is None:
            return None
        where = pointer_relpath if self.rev is None else f"{self.label}:{pointer_relpath}"
        return parse_pointer(raw, where)

    def pointer_owner(self, relpath: str) -> tuple[str, Pointer] | None:
        """(output, pointer) of the tracked output that is `relpath` or contains it."""
        parts = relpath.split("/")
        for i in range(len(parts), 0, -1):
            candidate = "/".join(parts[:i])
            found = self.pointer(candidate)
            if found is not None:
                return candidate, found
        return None

    def git_blobs(self, relpaths: list[str]) -> dict[str, str]:
        """{path: git blob id} of those `relpaths` that git tracks (at `rev`; in the work
        tree: the id of the file's current bytes, for files in git's index)."""
        if not relpaths:
            return {}
        if self.rev is not None:
            if self._tree is None:
                self._tree = {
                    e.path: e.object_id
                    for e in git.ls_tree(self.root, self.rev)
                    if e.kind == "blob"
                }
            return {p: self._tree[p] for p in relpaths if p in self._tree}
        tracked = [p for p in git.tracked_by_git(self.root, relpaths) if (self.root / p).is_file()]
        if not tracked:
            return {}
        out = git.run_bytes(
            self.root,
            ["hash-object", "--stdin-paths"],
            input="".join(p + "\n" for p in tracked).encode(),
        )
        return dict(zip(tracked, out.decode().split(), strict=True))

    def last_change(self, relpath: str) -> Change | None:
        """The commit (reachable from `rev`, or HEAD) that last changed `relpath`."""
        start = self.rev or "HEAD"
        if self.rev is None and git.head_commit(self.root) is None:
            return None
        try:
            out = git.run_bytes(
                self.root,
                ["log", "-1", "--format=%H%x00%an <%ae>%x00%aI%x00%s", start, "--", relpath],
            )
        except GitError:
            return None
        fields = os.fsdecode(out.rstrip(b"\n")).split("\0")
        if len(fields) != 4:
            return None
        return Change(*fields)
