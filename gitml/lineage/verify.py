"""`gitml lineage --verify PATH`: can we still rebuild this output? Every object its
lineage names must be stored: gitml content (outputs, data deps, the files of tracked
directories) in the local cache or on the remote, code deps as blobs in git."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import git_objects
from gitml.errors import GitmlError
from gitml.hashing import Oid
from gitml.lineage.trace import GIT, UNTRACKED, Lineage, Node
from gitml.objects import ObjectSource


@dataclass(frozen=True)
class Missing:
    path: str
    object: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "object": self.object, "reason": self.reason}


@dataclass
class Verification:
    checked: int = 0
    in_cache: int = 0
    on_remote: int = 0
    in_git: int = 0
    missing: list[Missing] = field(default_factory=list)
    remote_error: str | None = None

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "complete": self.complete,
            "checked": self.checked,
            "in_cache": self.in_cache,
            "on_remote": self.on_remote,
            "in_git": self.in_git,
            "missing": [m.to_json() for m in self.missing],
        }
        if self.remote_error is not None:
            data["remote_error"] = self.remote_error
        return data


def _content_objects(nodes: list[Node], source: ObjectSource) -> dict[Oid, str]:
    """{object: path naming it} for every gitml object the nodes need, directory files
    included when the directory's manifest can be read."""
    wanted: dict[Oid, str] = {}
    for node in nodes:
        if node.oid is None or node.kind in (GIT, UNTRACKED):
            continue
        oid = Oid.parse(node.oid)
        wanted.setdefault(oid, node.path)
        if node.nfiles is not None:
            manifest = source.try_manifest(oid, node.path)
            for entry in manifest or ():
                wanted.setdefault(entry.oid, f"{node.path}/{entry.relpath}")
    return wanted


def verify(root_dir: Path, lineage: Lineage, source: ObjectSource) -> Verification:
    nodes = lineage.root.walk()
    result = Verification()
    wanted = _content_objects(nodes, source)
    result.checked = len(wanted)
    assert source.cache is not None
    absent = set(source.cache.missing(list(wanted)))
    result.in_cache = len(wanted) - len(absent)
    if absent:
        try:
            present = source.store().present(absent)
        except GitmlError as exc:
            present = set()
            result.remote_error = exc.message
        result.on_remote = len(present)
        where = (
            f"not in the cache (remote: {result.remote_error})"
            if result.remote_error
            else "not in the cache nor on the remote"
        )
        for oid in sorted(absent - present, key=str):
            result.missing.append(Missing(wanted[oid], str(oid), where))
    code = [n for n in nodes if n.kind == GIT and n.git_blob]
    if code:
        kinds = git_objects.object_sizes(root_dir, [n.git_blob for n in code if n.git_blob])
        for node in code:
            assert node.git_blob is not None
            if node.git_blob in kinds:
                result.in_git += 1
            else:
                result.missing.append(
                    Missing(node.path, f"git:{node.git_blob}", "these bytes are in no git commit")
                )
        result.checked += len(code)
    for node in nodes:
        if node.kind == UNTRACKED:
            result.checked += 1
            result.missing.append(
                Missing(node.path, node.oid or "-", "tracked by neither git nor gitml")
            )
    return result
