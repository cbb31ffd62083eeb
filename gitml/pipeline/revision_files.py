"""Files the pipeline names (metrics, plots data, params, any dep or out), read as they
were at any revision, without a checkout.

    from gitml.pipeline import revision_files

    revision_files.read_bytes(ws, "HEAD~1", "metrics.json")  # bytes, or None if absent
    revision_files.load(ws, "main", "metrics.json")          # parsed mapping, or None
    revision_files.read_required(ws, "v1", "plots/roc.csv")  # bytes, or an error saying why

    with revision_files.RevisionFiles(ws) as files:  # many reads: one git process, caches
        for rev in ("HEAD~2", "HEAD~1", None):
            files.load(rev, "metrics.json")
        files.pipeline("HEAD~1")  # the pipeline as it was there (e.g. its plots), parsed

A RevisionFiles object is for one thread at a time. Files are read whole into memory:
this is for metrics, params, plots data and other small files; stream large data with
`gitml.api.open(path, rev=...)`.

`ws` is a Workspace or a path inside one. `rev` is anything
`gitml.revisions.resolve` accepts (branch, tag, sha, `HEAD~1`, and the kinds of reference
appended to its resolvers); None means the file on disk in the workspace. `relpath` is
workspace-relative with '/' separators.

At a revision the bytes come from, in this order:
1. the file committed to git at that revision (`-M` metrics, params files, code);
2. a file tracked by a pointer file committed there (`gitml add`), or a file inside such
   a tracked directory;
3. a cached stage out recorded in the gitml.lock committed there, or a file inside a
   directory out.
Objects come from the local cache, else from the default remote (or `remote`): downloaded
into the cache, hash-verified, as `gitml fetch` does.

`read_bytes` returns None when the file did not exist at the revision; `read_required`
raises `FileAbsentError` instead, naming why (not in git, not tracked by gitml, or a stage
declares it but the gitml.lock at the revision has no entry for it). Both raise
`FileUnavailableError` when the file existed but its bytes cannot be had: the object is
neither in the cache nor on the remote, no remote is configured, or the out is not
cached and was not committed to git. A revision that names no commit is a GitError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml import git, revisions
from gitml.errors import (
    GitmlError,
    IntegrityError,
    ObjectNotFoundError,
    PathError,
    RemoteNotConfiguredError,
)
from gitml.hashing import Oid, hash_bytes
from gitml.pipeline import LOCK_FILE, PIPELINE_FILE
from gitml.pointer import POINTER_SUFFIX, Pointer
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from gitml.manifest import Manifest
    from gitml.pipeline.spec import Pipeline
    from gitml.remote.store import RemoteStore


_FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class FileAbsentError(PathError):
    """The file did not exist at the revision (the message says how that was decided)."""


class FileUnavailableError(ObjectNotFoundError):
    """The file existed at the revision but its bytes cannot be had."""


@dataclass(frozen=True)
class Located:
    """Where one file's bytes are at a revision: a git blob (`data`) or a data object."""

    relpath: str
    label: str  # "metrics.json at HEAD~1"
    data: bytes | None = None
    oid: Oid | None = None
    size: int = 0
    owner: str = ""  # the output holding it: the file itself or its directory
    rev: str = ""


class RevisionFiles:
    """Reads files at revisions of one workspace; close it (or use `with`) when done."""

    def __init__(self, ws: Workspace | Path, remote: str | None = None) -> None:
        self.ws = ws if isinstance(ws, Workspace) else Workspace.find(Path(ws))
        self.root = self.ws.root
        self.remote = remote
        self.cat = git.CatFile(self.root)
        self._commits: dict[str, str | None] = {}
        self._locks: dict[str, list[tuple[str, Pointer, str, str]]] = {}
        self._pipelines: dict[str, Pipeline | None] = {}
        self._trees: dict[str, list[str]] = {}  # commit -> its gitml.yaml files
        self._manifests: dict[Oid, Manifest] = {}
        self._store: RemoteStore | None = None
        self._store_error: GitmlError | None = None

    def close(self) -> None:
        self.cat.close()

    def __enter__(self) -> RevisionFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Public -------------------------------------------------------------------------

    def commit(self, rev: str) -> str | None:
        """The commit `rev` names (None: `HEAD` of a repository without commits)."""
        if rev not in self._commits:
            if _FULL_ID.fullmatch(rev) and self._is_commit(rev):
                self._commits[rev] = rev  # saves a process per revision for callers with ids
            elif rev == "HEAD" and git.head_commit(self.root) is None:
                self._commits[rev] = None
            else:
                self._commits[rev] = revisions.resolve(self.root, rev)
        return self._commits[rev]

    def _is_commit(self, object_id: str) -> bool:
        found = self.cat.read_many([object_id]).get(object_id)
        return found is not None and found[0] == "commit"

    def pipeline(self, rev: str | None) -> Pipeline | None:
        """Every gitml.yaml at `rev` (None: the workspace's) as one pipeline (see
        gitml.pipeline.project); None when there is none. Malformed: a FormatError."""
        from gitml.pipeline.project import load_pipelines, load_pipelines_at

        if rev is None:
            return load_pipelines(self.root)
        commit = self.commit(rev)
        if commit is None:
            return None
        if commit not in self._pipelines:
            self._pipelines[commit] = load_pipelines_at(
                self.root,
                commit,
                files=self._pipeline_files(commit),
                read=lambda relpath: self.cat.read_path(commit, relpath),
                label=rev,
            )
        return self._pipelines[commit]

    def read_bytes(self, rev: str | None, relpath: str) -> bytes | None:
        """The file's bytes at `rev` (None: the workspace), None if it did not exist."""
        try:
            return self.read_required(rev, relpath)
        except FileAbsentError:
            return None

    def read_required(self, rev: str | None, relpath: str) -> bytes:
        """The file's bytes at `rev`; FileAbsentError or FileUnavailableError saying why."""
        if rev is None:
            return self._read_workspace(relpath)
        located = self.locate(rev, relpath)
        if located.data is not None:
            return located.data
        return self._object_bytes(located)

    def load(self, rev: str | None, relpath: str) -> dict[str, Any] | None:
        """The params/metrics file (YAML, JSON, TOML) parsed, None if it did not exist."""
        from gitml.pipeline.params import parse

        data = self.read_bytes(rev, relpath)
        return None if data is None else parse(data, relpath if rev is None else f"{rev}:{relpath}")

    def locate(self, rev: str, relpath: str) -> Located:
        """Where the file's bytes are at `rev`; FileAbsentError if it did not exist there."""
        label = f"{relpath} at {rev}"
        commit = self.commit(rev)
        if commit is None:
            raise FileAbsentError(f"{label}: the repository has no commits yet")
        blob = self.cat.read_path(commit, relpath)
        if blob is not None:
            return Located(relpath, label, data=blob, rev=rev)
        found = self._pointer_owner(commit, rev, relpath) or self._lock_owner(commit, rev, relpath)
        if found is None:
            raise FileAbsentError(f"{label}: {self._absence_reason(commit, rev, relpath)}")
        owner, pointer, where = found
        if owner == relpath:
            if pointer.kind == "dir":
                raise PathError(f"{label}: is a directory tracked by gitml; name a file in it")
            return Located(relpath, label, oid=pointer.oid, size=pointer.size, owner=owner, rev=rev)
        inner = relpath[len(owner) + 1 :]
        if pointer.kind != "dir":
            raise FileAbsentError(f"{label}: {owner} is a file, not a directory, at {rev}")
        for entry in self._manifest(pointer.oid, where, label):
            if entry.relpath == inner:
                return Located(relpath, label, oid=entry.oid, size=entry.size, owner=owner, rev=rev)
        raise FileAbsentError(f"{label}: not in tracked directory {owner} at {rev}")

    # Finding the output that holds a path ---------------------------------------------

    def _pointer_owner(
        self, commit: str, rev: str, relpath: str
    ) -> tuple[str, Pointer, str] | None:
        from gitml.outputs import parse_revision_pointer

        for candidate in _self_and_parents(relpath):
            pointer_path = candidate + POINTER_SUFFIX
            data = self.cat.read_path(commit, pointer_path)
            if data is not None:
                where = f"{rev}:{pointer_path}"
                tracked = parse_revision_pointer(pointer_path, data, where)
                return candidate, tracked.pointer, where
        return None

    def _lock_owner(self, commit: str, rev: str, relpath: str) -> tuple[str, Pointer, str] | None:
        candidates = set(_self_and_parents(relpath))
        for path, pointer, lock, stage in self._lock_outs_at(commit, rev):
            if path in candidates:
                return path, pointer, f"{rev}:{lock} (stage '{stage}')"
        return None

    def _lock_outs_at(self, commit: str, rev: str) -> list[tuple[str, Pointer, str, str]]:
        """(path, pointer, lock file, stage) of every out in the gitml.lock beside each
        gitml.yaml at `commit` (pipelines in subfolders included; lock paths are
        workspace-relative). The locks alone say what existed: no pipeline is parsed."""
        if commit not in self._locks:
            from gitml.pipeline.lockfile import parse_lock
            from gitml.pipeline.project import lock_path

            outs: list[tuple[str, Pointer, str, str]] = []
            for file in self._pipeline_files(commit):
                lock = lock_path(file)
                raw = self.cat.read_path(commit, lock)
                if raw is None:
                    continue
                for name, entry in parse_lock(raw, f"{rev}:{lock}").items():
                    outs.extend((o.path, o.pointer(), lock, name) for o in entry.outs)
            self._locks[commit] = outs
        return self._locks[commit]

    def _pipeline_files(self, commit: str) -> list[str]:
        """Every gitml.yaml committed at `commit`, the root one first."""
        if commit not in self._trees:
            listing = git.run_bytes(
                self.root, ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit]
            )
            names = (os.fsdecode(n) for n in listing.split(b"\0") if n)
            found = [n for n in names if n.rsplit("/", 1)[-1] == PIPELINE_FILE]
            self._trees[commit] = sorted(found, key=lambda f: (f.count("/"), f))
        return self._trees[commit]

    def _absence_reason(self, commit: str, rev: str, relpath: str) -> str:
        try:
            pipeline = self.pipeline(rev)
        except GitmlError:
            pipeline = None
        candidates = set(_self_and_parents(relpath))
        for stage in pipeline.stages.values() if pipeline is not None else ():
            for out in stage.outs:
                if out.path in candidates:
                    if not out.cache:
                        return f"stage '{stage.name}' declares it uncached, and it is not in git"
                    return (
                        f"stage '{stage.name}' declares it, but {LOCK_FILE} at {rev} has no "
                        "entry for it (the stage had not run when that commit was made)"
                    )
        return f"not in git and not tracked by gitml at {rev}"

    # Bytes -----------------------------------------------------------------------------

    def _read_workspace(self, relpath: str) -> bytes:
        path = self.ws.abspath(relpath)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileAbsentError(f"{relpath}: no such file in the workspace") from None
        except IsADirectoryError:
            raise PathError(f"{relpath}: is a directory, not a file") from None

    def _object_bytes(self, located: Located) -> bytes:
        oid = located.oid
        assert oid is not None
        cache = self.ws.cache
        if not cache.exists(oid):
            self._download(located, manifest=False)
        data = cache.read_bytes(oid)
        if hash_bytes(data) != oid:
            cache.quarantine(oid)
            raise IntegrityError(f"{located.label}: cache object {oid} is corrupt; removed it")
        return data

    def _download(self, located: Located, *, manifest: bool) -> None:
        oid = located.oid
        assert oid is not None
        store = self._open_store(located)
        try:
            if manifest:
                self.ws.cache.add_bytes(store.read_object(oid, located.owner), oid)
            else:
                store.download(oid, located.size, self.ws.cache, _ignore_bytes, located.label)
        except ObjectNotFoundError:
            raise FileUnavailableError(
                f"{located.label}: object {oid} ({located.owner}) is neither in the cache nor "
                f"on remote '{store.name}'{self._uncached_note(located)}",
                hint="run 'gitml push' where it was made",
            ) from None

    def _uncached_note(self, located: Located) -> str:
        """Why an object may be on no remote: its stage out is not cached (`cache: false`)
        and was not committed to git."""
        if not located.rev:
            return ""
        try:
            pipeline = self.pipeline(located.rev)
        except GitmlError:
            return ""
        for stage in pipeline.stages.values() if pipeline is not None else ():
            for out in stage.outs:
                if out.path == located.owner and not out.cache:
                    return f" (stage '{stage.name}' does not cache it and it is not in git)"
        return ""

    def _open_store(self, located: Located) -> RemoteStore:
        if self._store is None and self._store_error is None:
            from gitml.repo import open_store

            try:
                store = open_store(self.ws, self.remote, None)
                store.check_format(must_exist=True)
                self._store = store
            except GitmlError as exc:
                self._store_error = exc
        if self._store is not None:
            return self._store
        error = self._store_error
        assert error is not None
        if isinstance(error, RemoteNotConfiguredError):
            raise FileUnavailableError(
                f"{located.label}: object {located.oid} ({located.owner}) is not in the cache "
                f"and no remote is configured{self._uncached_note(located)}",
                hint=error.hint,
            ) from None
        raise type(error)(f"{located.label}: {error.message}", hint=error.hint) from None

    def _manifest(self, oid: Oid, where: str, label: str) -> Manifest:
        if oid not in self._manifests:
            from gitml.manifest import parse_manifest

            located = Located("", label, oid=oid, owner=f"the manifest of {where}")
            if not self.ws.cache.exists(oid):
                self._download(located, manifest=True)
            data = self._object_bytes(located)
            self._manifests[oid] = parse_manifest(data, f"manifest {oid} of {where}")
        return self._manifests[oid]


def _self_and_parents(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _ignore_bytes(_count: int) -> None:
    pass


def _with_files(ws: Workspace | Path, read: Callable[[RevisionFiles], Any]) -> Any:
    with RevisionFiles(ws) as files:
        return read(files)


def read_bytes(ws: Workspace | Path, rev: str | None, relpath: str) -> bytes | None:
    """The file's bytes at `rev` (None: the workspace); None if it did not exist there."""
    result: bytes | None = _with_files(ws, lambda f: f.read_bytes(rev, relpath))
    return result


def read_required(ws: Workspace | Path, rev: str | None, relpath: str) -> bytes:
    """The file's bytes at `rev`; FileAbsentError / FileUnavailableError saying why not."""
    result: bytes = _with_files(ws, lambda f: f.read_required(rev, relpath))
    return result


def load(ws: Workspace | Path, rev: str | None, relpath: str) -> dict[str, Any] | None:
    """The params/metrics file at `rev`, parsed (YAML, JSON, TOML); None if absent."""
    result: dict[str, Any] | None = _with_files(ws, lambda f: f.load(rev, relpath))
    return result


__all__ = [
    "FileAbsentError",
    "FileUnavailableError",
    "Located",
    "RevisionFiles",
    "load",
    "read_bytes",
    "read_required",
]
