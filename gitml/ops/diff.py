"""`gitml diff`: tracked outputs added, deleted, modified or renamed between two revisions,
or between a revision and the work tree, down to the files inside tracked directories.

The work tree side is what is on disk (hashed through the stat cache, as `status` does);
an output whose data is not checked out counts as its pointer file says. A rename is a
deleted path and an added path with the same content id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gitml import git
from gitml.errors import GitmlError, ObjectNotFoundError
from gitml.hashing import Oid
from gitml.manifest import Manifest
from gitml.outputs import WORKSPACE, Snapshot, TrackedOutput
from gitml.pointer import Pointer
from gitml.repo import DataRepo
from gitml.scan import observe
from gitml.workspace import Workspace


@dataclass(frozen=True)
class Side:
    oid: Oid
    size: int

    def to_json(self) -> dict[str, object]:
        return {"oid": str(self.oid), "size": self.size}


@dataclass(frozen=True)
class Change:
    status: str  # "added" | "deleted" | "modified" | "renamed"
    path: str  # a directory output ends with "/"
    old: Side | None = None
    new: Side | None = None
    old_path: str | None = None  # renamed only

    def to_json(self) -> dict[str, object]:
        if self.status == "modified":
            assert self.old is not None and self.new is not None
            return {"path": self.path, "old": self.old.to_json(), "new": self.new.to_json()}
        side = self.new or self.old
        assert side is not None
        data: dict[str, object] = {"path": self.path, **side.to_json()}
        if self.old_path is not None:
            data = {"old_path": self.old_path, **data}
        return data


@dataclass
class DiffResult:
    a: str
    b: str
    changes: list[Change] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (dir path, why)

    def of(self, status: str) -> list[Change]:
        return [c for c in self.changes if c.status == status]

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"a": self.a, "b": self.b}
        for status in ("added", "deleted", "modified", "renamed"):
            data[status] = [c.to_json() for c in self.of(status)]
        data["unknown"] = [{"path": p, "reason": r} for p, r in self.unknown]
        return data


@dataclass
class _Out:
    pointer: Pointer
    manifest: Callable[[], Manifest]


def _revision_side(snapshot: Snapshot) -> dict[str, _Out]:
    def loader(output: TrackedOutput) -> Callable[[], Manifest]:
        return lambda: snapshot.manifest(output)

    return {p: _Out(o.pointer, loader(o)) for p, o in snapshot.outputs.items()}


def _workspace_side(ws: Workspace, snapshot: Snapshot) -> dict[str, _Out]:
    """Outputs as they are on disk; a missing output counts as its pointer says."""
    side = _revision_side(snapshot)
    try:
        for path in side:
            try:
                observed = observe(path, ws.abspath(path), ws.cache, ws.state, ws.progress)
            except GitmlError:
                continue
            if observed.kind == "missing":
                continue
            manifest = observed.manifest
            side[path] = _Out(observed.pointer(), _constant(manifest))
    finally:
        ws.state.save()
    return side


def _constant(manifest: Manifest | None) -> Callable[[], Manifest]:
    def get() -> Manifest:
        assert manifest is not None  # only directories ask for their manifest
        return manifest

    return get


def _side(repo: DataRepo, ws: Workspace, rev: str | None) -> tuple[str, dict[str, _Out]]:
    source = repo.source(store_fetched=True)
    if rev is None:
        return WORKSPACE, _workspace_side(ws, repo.snapshot(None, source))
    if rev == "HEAD" and git.head_commit(ws.root) is None:
        return rev, {}  # no commit yet: everything in the work tree is added
    return rev, _revision_side(repo.snapshot(rev, source))


def diff(ws: Workspace, rev_a: str = "HEAD", rev_b: str | None = None) -> DiffResult:
    """Changes from `rev_a` to `rev_b` (None: the work tree)."""
    with DataRepo.for_workspace(ws) as repo:
        label_a, a = _side(repo, ws, rev_a)
        label_b, b = _side(repo, ws, rev_b)
        result = DiffResult(label_a, label_b)
        added: list[Change] = []
        deleted: list[Change] = []
        for path in sorted(set(a) | set(b)):
            old, new = a.get(path), b.get(path)
            if old is not None and new is not None and old.pointer == new.pointer:
                continue
            if old is not None and new is not None and old.pointer.kind == new.pointer.kind:
                _modified(result, path, old, new, added, deleted)
                continue
            if old is not None:
                _whole(result, path, old, "deleted", deleted)
            if new is not None:
                _whole(result, path, new, "added", added)
        result.changes += _pair_renames(deleted, added)
        result.changes.sort(key=lambda c: (c.path, c.status))
        return result


def _name(path: str, pointer: Pointer) -> str:
    return path + "/" if pointer.kind == "dir" else path


def _load(result: DiffResult, path: str, out: _Out) -> Manifest | None:
    """The manifest, or None after noting once per path why the files are unknown."""
    try:
        return out.manifest()
    except ObjectNotFoundError as exc:
        if all(p != path + "/" for p, _ in result.unknown):
            result.unknown.append((path + "/", exc.message))
        return None


def _whole(result: DiffResult, path: str, out: _Out, status: str, into: list[Change]) -> None:
    """An output present on one side only: it and (for a directory) each of its files."""

    def change(name: str, side: Side) -> Change:
        return (
            Change(status, name, old=side)
            if status == "deleted"
            else Change(status, name, new=side)
        )

    into.append(change(_name(path, out.pointer), Side(out.pointer.oid, out.pointer.size)))
    if out.pointer.kind == "dir":
        for e in _load(result, path, out) or ():
            into.append(change(f"{path}/{e.relpath}", Side(e.oid, e.size)))


def _modified(
    result: DiffResult,
    path: str,
    old: _Out,
    new: _Out,
    added: list[Change],
    deleted: list[Change],
) -> None:
    result.changes.append(
        Change(
            "modified",
            _name(path, old.pointer),
            Side(old.pointer.oid, old.pointer.size),
            Side(new.pointer.oid, new.pointer.size),
        )
    )
    if old.pointer.kind != "dir":
        return
    before, after = _load(result, path, old), _load(result, path, new)
    if before is None or after is None:
        return
    old_files, new_files = before.by_path(), after.by_path()
    for rel in sorted(set(old_files) | set(new_files)):
        x, y = old_files.get(rel), new_files.get(rel)
        name = f"{path}/{rel}"
        if x is not None and y is not None:
            if (x.oid, x.executable) != (y.oid, y.executable):
                result.changes.append(
                    Change("modified", name, Side(x.oid, x.size), Side(y.oid, y.size))
                )
        elif x is not None:
            deleted.append(Change("deleted", name, old=Side(x.oid, x.size)))
        elif y is not None:
            added.append(Change("added", name, new=Side(y.oid, y.size)))


def _pair_renames(deleted: list[Change], added: list[Change]) -> list[Change]:
    """Match each deleted path with an added path of the same content (and kind)."""
    waiting: dict[tuple[Oid, bool], list[Change]] = {}
    for change in added:
        assert change.new is not None
        waiting.setdefault((change.new.oid, change.path.endswith("/")), []).append(change)
    paired: set[int] = set()
    out: list[Change] = []
    for change in deleted:
        assert change.old is not None
        candidates = waiting.get((change.old.oid, change.path.endswith("/")), [])
        if candidates:
            target = candidates.pop(0)
            paired.add(id(target))
            out.append(Change("renamed", target.path, new=target.new, old_path=change.path))
        else:
            out.append(change)
    out += [c for c in added if id(c) not in paired]
    return out
