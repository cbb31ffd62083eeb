"""All the pipelines of a workspace: every `gitml.yaml`, each with its `gitml.lock` beside it.

As DVC finds every `dvc.yaml`: a file's paths, `wdir`, `vars` and default `params.yaml`
are relative to its own folder (gitml/pipeline/spec.py). The files are combined into one
`Pipeline` whose stages are keyed by address: the bare name for the root `gitml.yaml`,
`path/to/gitml.yaml:stage` for the others (users may type a bare name where it is unique).
Paths inside every `gitml.lock` are workspace-relative, like every other gitml path.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from gitml import git
from gitml.datafiles import read_bytes
from gitml.errors import FormatError, GitError
from gitml.pipeline import LOCK_FILE, PIPELINE_FILE
from gitml.pipeline.files import _root_first
from gitml.pipeline.files import pipeline_files as pipeline_files  # re-exported
from gitml.pipeline.lockfile import Lockfile, cached_outputs, parse_lock
from gitml.pipeline.model import LockEntry, Stage
from gitml.pipeline.spec import Pipeline, ReadAt, parse_pipeline
from gitml.pointer import Pointer


def address(file: str, name: str) -> str:
    return name if file == PIPELINE_FILE else f"{file}:{name}"


def lock_path(pipeline_file: str) -> str:
    """The gitml.lock beside a gitml.yaml (both workspace-relative)."""
    return posixpath.join(posixpath.dirname(pipeline_file), LOCK_FILE)


def pipeline_files_at(root: Path, rev: str) -> list[str]:
    """Every gitml.yaml committed at `rev` ([] for HEAD of a repository with no commits)."""
    try:
        commit = git.resolve_commit(root, rev)
    except GitError:
        if rev == "HEAD":
            return []
        raise GitError(f"unknown git revision {rev!r}") from None
    out = git.run_bytes(root, ["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit])
    names = (os.fsdecode(n) for n in out.split(b"\0") if n)
    return _root_first(n for n in names if n.rsplit("/", 1)[-1] == PIPELINE_FILE)


def _combine(parsed: list[tuple[str, Pipeline]]) -> Pipeline | None:
    if not parsed:
        return None
    if len(parsed) == 1 and parsed[0][0] == PIPELINE_FILE:
        only = parsed[0][1]
        names = {name: (PIPELINE_FILE, name) for name in [*only.stages, *only.groups]}
        return Pipeline(**{**only.__dict__, "origin": names})
    stages: dict[str, Stage] = {}
    groups: dict[str, tuple[str, ...]] = {}
    origin: dict[str, tuple[str, str]] = {}
    metrics: list[str] = []
    params_files: list[str] = []
    for file, pipeline in parsed:
        for name, stage in pipeline.stages.items():
            key = address(file, name)
            stages[key] = Stage(**{**stage.__dict__, "name": key})
            origin[key] = (file, name)
        for name, members in pipeline.groups.items():
            key = address(file, name)
            groups[key] = tuple(address(file, m) for m in members)
            origin[key] = (file, name)
        metrics.extend(pipeline.metrics)
        params_files.extend(pipeline.params_files)
    return Pipeline(
        PIPELINE_FILE,
        stages,
        groups,
        metrics=tuple(dict.fromkeys(metrics)),
        params_files=tuple(dict.fromkeys(params_files)),
        origin=origin,
    )


def load_pipelines(root: Path, pending: tuple[str, bytes] | None = None) -> Pipeline | None:
    """Every gitml.yaml of the workspace as one pipeline, or None when there is none.

    This is the one loader for "all pipelines of the workspace". `pending`, (file, text):
    a gitml.yaml about to be written, read as if it were there (`stage add` checks the
    whole project with it before writing)."""
    parsed = []
    files = pipeline_files(root)
    if pending is not None:
        files = _root_first([*files, pending[0]])
    for file in files:
        try:
            data = pending[1] if pending and file == pending[0] else read_bytes(root / file, file)
        except FileNotFoundError:
            continue
        except IsADirectoryError:
            raise FormatError(f"{file}: is a directory") from None
        parsed.append((file, parse_pipeline(data, root, file)))
    return _combine(parsed)


def load_pipelines_at(
    root: Path,
    rev: str,
    *,
    files: list[str] | None = None,
    read: ReadAt | None = None,
    label: str | None = None,
) -> Pipeline | None:
    """Every gitml.yaml committed at `rev` as one pipeline (vars read at `rev` too).

    A caller that already reads the commit (gitml.pipeline.revision_files) passes the
    gitml.yaml paths there (`files`) and its reader (`read`: relpath -> bytes at `rev`),
    which saves git processes; `label` names the revision in messages."""
    if files is None:
        files = pipeline_files_at(root, rev)
    if read is None:

        def read(relpath: str) -> bytes | None:
            return git.show_file(root, rev, relpath)

    parsed = []
    for file in files:
        data = read(file)
        if data is not None:
            parsed.append((file, parse_pipeline(data, root, file, rev=label or rev, read=read)))
    return _combine(parsed)


def _files_of(pipeline: Pipeline) -> list[str]:
    return _root_first(file for file, _ in pipeline.origin.values()) or [PIPELINE_FILE]


@dataclass
class Locks:
    """The gitml.lock of every pipeline file; `entries` are keyed by stage address."""

    root: Path
    pipeline: Pipeline
    files: dict[str, Lockfile] = field(default_factory=dict)  # pipeline file -> its lock
    entries: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, pipeline: Pipeline) -> Locks:
        locks = cls(root, pipeline)
        for file in _files_of(pipeline):
            locks.files[file] = Lockfile.load(root, lock_path(file))
        for key in pipeline.stages:
            file, name = pipeline.origin.get(key, (PIPELINE_FILE, key))
            entry = locks.files[file].entries.get(name)
            if entry is not None:
                locks.entries[key] = entry
        return locks

    def record(self, key: str, entry: LockEntry) -> str:
        """Store the entry of stage `key` and write its gitml.lock; returns that file."""
        file, name = self.pipeline.origin.get(key, (PIPELINE_FILE, key))
        self.entries[key] = entry
        lock = self.files.setdefault(file, Lockfile(self.root / lock_path(file)))
        lock.entries[name] = entry
        order = [n for f, n in self.pipeline.origin.values() if f == file]
        lock.save(order or list(self.pipeline.stages))
        return lock_path(file)


def has_locks(root: Path) -> bool:
    """Whether any pipeline of the workspace has a gitml.lock (cheap when the root has one)."""
    if (root / LOCK_FILE).exists():
        return True
    return any((root / lock_path(f)).exists() for f in pipeline_files(root))


def lock_outputs(root: Path, *, pushable_only: bool = False) -> list[tuple[str, Pointer, str]]:
    """(path, Pointer, lock file) of the cached stage outs in every gitml.lock
    (`pushable_only`: not those declared `push: false`)."""
    if not has_locks(root):
        return []
    pipeline = load_pipelines(root)
    if pipeline is None:
        return []
    locks = Locks.load(root, pipeline)
    outputs = cached_outputs(pipeline.stages, locks.entries, pushable_only=pushable_only)
    return _with_lock_names(pipeline, outputs)


def _with_lock_names(
    pipeline: Pipeline, outputs: list[tuple[str, Pointer]]
) -> list[tuple[str, Pointer, str]]:
    owner = {o.path: key for key, s in pipeline.stages.items() for o in s.outs}
    result = []
    for path, pointer in outputs:
        file, _ = pipeline.origin.get(owner.get(path, ""), (PIPELINE_FILE, ""))
        result.append((path, pointer, lock_path(file)))
    return result


def lock_entries_at(root: Path, rev: str) -> tuple[Pipeline, dict[str, LockEntry]] | None:
    """Every pipeline at `rev` as one, and the lock entry of each stage that has one, keyed
    by stage address; None when `rev` has no pipeline."""
    pipeline = load_pipelines_at(root, rev)
    if pipeline is None:
        return None
    entries: dict[str, LockEntry] = {}
    for file in _files_of(pipeline):
        raw = git.show_file(root, rev, lock_path(file))
        if raw is None:
            continue
        by_name = parse_lock(raw, f"{rev}:{lock_path(file)}")
        for key, (origin_file, name) in pipeline.origin.items():
            if origin_file == file and name in by_name:
                entries[key] = by_name[name]
    return pipeline, entries


def lock_outputs_at(
    root: Path, rev: str, *, pushable_only: bool = False
) -> list[tuple[str, Pointer, str]]:
    """(path, Pointer, lock file) of the cached stage outs in every gitml.lock at `rev`."""
    found = lock_entries_at(root, rev)
    if found is None:
        return []
    pipeline, entries = found
    outputs = cached_outputs(pipeline.stages, entries, pushable_only=pushable_only)
    return _with_lock_names(pipeline, outputs)
