"""`gitml lineage PATH`: the stage and command that produced PATH, each dep with its
content id (and git blob id for files in git), the params and their values, recursively
down to data added with `gitml add` (with the commit that last changed its pointer).

What produced an output is what `gitml.lock` recorded for its stage's last run; a
dep's own lineage is read from the same revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitml.cache import Cache
from gitml.errors import PathError
from gitml.lineage.view import Change, RevisionView
from gitml.pipeline.model import LockedPath, ParamValues
from gitml.pointer import pointer_path_for

STAGE_OUT = "stage_out"  # produced by a stage, recorded in gitml.lock
ADDED = "added"  # tracked with `gitml add` (a pointer file)
GIT = "git"  # a file git tracks (code, configuration)
UNTRACKED = "untracked"  # neither: nothing records its bytes


@dataclass
class Produced:
    stage: str
    cmd: str | list[str]
    wdir: str
    params: ParamValues
    deps: list[Node]
    recorded: bool  # False: the stage is declared but gitml.lock has no run of it
    run: dict[str, Any] | None = None  # the run-cache's metadata of that run


@dataclass
class Node:
    path: str
    kind: str
    oid: str | None = None
    size: int | None = None
    nfiles: int | None = None
    git_blob: str | None = None
    inside: str | None = None  # the tracked output that contains `path`
    produced_by: Produced | None = None
    source: Change | None = None  # the commit that last changed the pointer / git file

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind}
        for key in ("oid", "size", "nfiles", "git_blob", "inside"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.produced_by is not None:
            p = self.produced_by
            data["produced_by"] = {
                "stage": p.stage,
                "cmd": p.cmd,
                "wdir": p.wdir,
                "recorded": p.recorded,
                "params": p.params,
                "deps": [d.to_json() for d in p.deps],
            }
            if p.run is not None:
                data["produced_by"]["run"] = p.run
        if self.source is not None:
            data["source"] = self.source.to_json()
        return data

    def walk(self) -> list[Node]:
        """This node and every node below it, depth first, each once."""
        seen: dict[int, Node] = {}
        stack = [self]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen[id(node)] = node
            if node.produced_by is not None:
                stack.extend(reversed(node.produced_by.deps))
        return list(seen.values())


@dataclass
class Lineage:
    root: Node
    rev: str  # as the user named it, or "workspace"
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {"rev": self.rev, "commit": self.commit, "lineage": self.root.to_json()}


class _Tracer:
    def __init__(self, view: RevisionView, cache: Cache | None) -> None:
        self.view = view
        self.cache = cache
        self.nodes: dict[str, Node] = {}
        self.active: set[str] = set()

    def node(self, path: str, locked: LockedPath | None = None) -> Node:
        if path in self.nodes:
            return self.nodes[path]
        if path in self.active:  # a cycle in a hand-edited pipeline: stop here
            return Node(path, UNTRACKED)
        self.active.add(path)
        try:
            node = self._build(path, locked)
        finally:
            self.active.discard(path)
        self.nodes[path] = node
        return node

    def _build(self, path: str, locked: LockedPath | None) -> Node:
        view = self.view
        pipeline = view.pipeline()
        owner = pipeline.out_owner(path) if pipeline is not None else None
        if owner is not None and (owner[1] == path or path.startswith(owner[1] + "/")):
            return self._stage_out(path, owner[0], owner[1], locked)
        tracked = view.pointer_owner(path)
        if tracked is not None:
            out, pointer = tracked
            node = Node(path, ADDED, inside=None if out == path else out)
            if out == path:
                node.oid, node.size, node.nfiles = str(pointer.oid), pointer.size, pointer.nfiles
            elif locked is not None:
                node.oid, node.size = str(locked.oid), locked.size
            node.source = view.last_change(pointer_path_for(out))
            return node
        blob = view.git_blobs([path]).get(path)
        if blob is not None:
            node = Node(path, GIT, git_blob=blob)
            node.source = view.last_change(path)
        else:
            node = Node(path, UNTRACKED)
        if locked is not None:
            node.oid, node.size, node.nfiles = str(locked.oid), locked.size, locked.nfiles
        return node

    def _stage_out(self, path: str, stage_name: str, out: str, hint: LockedPath | None) -> Node:
        pipeline = self.view.pipeline()
        assert pipeline is not None
        stage = pipeline.stages[stage_name]
        entry = self.view.lock().get(stage_name)
        node = Node(path, STAGE_OUT, inside=None if out == path else out)
        locked = entry.out(out) if entry is not None else None
        if locked is not None and out == path:
            node.oid, node.size, node.nfiles = str(locked.oid), locked.size, locked.nfiles
        elif hint is not None:
            node.oid, node.size, node.nfiles = str(hint.oid), hint.size, hint.nfiles
        if entry is None:
            node.produced_by = Produced(
                stage_name,
                stage.cmd_value,
                stage.wdir,
                {},
                [self.node(d) for d in stage.deps],
                False,
            )
            return node
        deps = [self.node(d.path, d) for d in sorted(entry.deps, key=lambda d: d.path)]
        blobs = self.view.git_blobs([d.path for d in deps if d.kind == GIT and d.git_blob is None])
        for dep in deps:
            dep.git_blob = dep.git_blob or blobs.get(dep.path)
        cmd: str | list[str] = list(entry.cmd) if entry.cmd_is_list else entry.cmd[0]
        node.produced_by = Produced(stage_name, cmd, entry.wdir, entry.params, deps, True)
        if self.cache is not None:
            from gitml.lineage.runs import run_meta

            node.produced_by.run = run_meta(self.cache, entry)
        return node


def trace(view: RevisionView, path: str, cache: Cache | None = None) -> Lineage:
    """The lineage of `path` (workspace-relative) as `view` records it, with run metadata
    from `cache`'s run-cache when given."""
    tracer = _Tracer(view, cache)
    root = tracer.node(path)
    if root.kind not in (STAGE_OUT, ADDED):
        where = "" if view.rev is None else f" at {view.label}"
        raise PathError(f"{path} is not tracked by gitml{where} (no pointer file and no stage out)")
    return Lineage(root, view.label, view.rev)
