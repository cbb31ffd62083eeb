"""`gitml verify`: prove that the objects the selected revisions need are intact.

Every needed object in the cache is hashed again (in parallel; BLAKE3 releases the GIL
and hashes a large file on several threads). With a remote, every needed object there is
read again too: each pack holding one (and its index, from the remote, not the local
copy), each loose object, and each chunked file through its chunk list and chunks.
Problems name the object and the outputs that use it. `repair` deletes corrupt cache
objects and fetches them (and missing ones) again from the remote, verified.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml import git
from gitml.errors import FormatError, GitmlError, IntegrityError, ObjectNotFoundError
from gitml.hashing import Oid, hash_file, hash_stream
from gitml.manifest import Manifest, parse_manifest
from gitml.outputs import TrackedOutput, revision_outputs, workspace_outputs
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore

_USERS_SHOWN = 10  # outputs named per object; the count says how many more


@dataclass
class Needed:
    oid: Oid
    size: int
    users: list[str] = field(default_factory=list)
    more_users: int = 0

    def used_by(self, label: str) -> None:
        if label in self.users:
            return
        if len(self.users) < _USERS_SHOWN:
            self.users.append(label)
        else:
            self.more_users += 1


@dataclass
class Problem:
    oid: Oid | None  # None: a pack or index as a whole
    place: str  # "cache" or "remote"
    state: str  # "missing" | "corrupt"
    message: str
    users: list[str] = field(default_factory=list)
    more_users: int = 0
    repaired: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "oid": str(self.oid) if self.oid else None,
            "place": self.place,
            "state": self.state,
            "message": self.message,
            "outputs": self.users,
            "more_outputs": self.more_users,
            "repaired": self.repaired,
        }


@dataclass
class VerifyReport:
    revisions: str
    objects: int = 0
    bytes: int = 0
    remote: str | None = None
    remote_objects: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[Problem]:
        return [p for p in self.problems if not p.repaired]

    def to_json(self) -> dict[str, object]:
        return {
            "revisions": self.revisions,
            "objects": self.objects,
            "bytes": self.bytes,
            "remote": self.remote,
            "remote_objects": self.remote_objects,
            "problems": [p.to_json() for p in self.problems],
            "ok": not self.unrepaired,
        }


class _Needs:
    """The objects to check, each with the outputs that use it; manifests read once."""

    def __init__(self, ws: Workspace, store: Callable[[], RemoteStore | None]) -> None:
        self.ws = ws
        self.store = store
        self.objects: dict[Oid, Needed] = {}
        self.unreadable: list[Problem] = []  # manifests that are nowhere to be read
        self._manifests: dict[Oid, Manifest | None] = {}

    def need(self, oid: Oid, size: int, label: str) -> None:
        self.objects.setdefault(oid, Needed(oid, size)).used_by(label)

    def add(self, output: TrackedOutput, suffix: str) -> None:
        pointer = output.pointer
        label = output.path + suffix
        if pointer.kind != "dir":
            self.need(pointer.oid, pointer.size, label)
            return
        self.need(pointer.oid, 0, f"{label} (its manifest)")
        manifest = self._manifest(pointer.oid, label)
        for entry in manifest.entries if manifest else ():
            self.need(entry.oid, entry.size, f"{output.path}/{entry.relpath}{suffix}")

    def _manifest(self, oid: Oid, label: str) -> Manifest | None:
        if oid in self._manifests:
            return self._manifests[oid]
        manifest = None
        try:
            manifest = self.ws.cache.load_manifest(oid)
        except (ObjectNotFoundError, IntegrityError, FormatError):
            store = self.store()
            if store is not None:
                try:
                    manifest = parse_manifest(store.read_object(oid, label), f"manifest {oid}")
                except GitmlError as exc:
                    self.unreadable.append(Problem(oid, "remote", "missing", exc.message, [label]))
        self._manifests[oid] = manifest
        return manifest


def _collect(ws: Workspace, needs: _Needs, all_commits: bool) -> None:
    for output in workspace_outputs(ws).values():
        needs.add(output, "")
    if not all_commits:
        return
    cat = git.CatFile(ws.root)
    seen: set[tuple[str, Oid]] = set()
    for commit in git.rev_list(ws.root, ["--all"]):
        for output in revision_outputs(ws.root, commit, cat).values():
            key = (output.path, output.pointer.oid)
            if key not in seen:
                seen.add(key)
                needs.add(output, f" @ {commit[:8]}")


def _parallel(work: Callable[[Needed], Problem | None], items: Iterable[Needed]) -> list[Problem]:
    jobs = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(jobs, thread_name_prefix="gitml-verify") as pool:
        return [p for p in pool.map(work, items) if p is not None]


def _check_cache(ws: Workspace, objects: list[Needed], report: VerifyReport) -> None:
    done = threading.Lock()

    def check(item: Needed) -> Problem | None:
        problem: Problem | None = None
        try:
            actual = hash_file(ws.cache.path(item.oid))
        except FileNotFoundError:
            problem = Problem(item.oid, "cache", "missing", f"{item.oid} is not in the cache")
        else:
            if actual != item.oid:
                message = f"cache object {item.oid} is corrupt (hashes to {actual})"
                problem = Problem(item.oid, "cache", "corrupt", message)
        with done:
            task.advance(item.size)
        if problem is not None:
            problem.users, problem.more_users = item.users, item.more_users
        return problem

    with ws.progress.task("Verifying the cache", sum(o.size for o in objects), "bytes") as task:
        report.problems += _parallel(check, objects)


def _check_remote(store: RemoteStore, objects: list[Needed], report: VerifyReport) -> None:
    by_oid = {o.oid: o for o in objects}
    store.check_format()
    groups, rest = store.packed(list(by_oid))

    def check_pack(pack_id: str) -> list[Problem]:
        found = []
        for oid, message in store.check_pack(pack_id, groups[pack_id]):
            problem = Problem(oid, "remote", "corrupt", message)
            if "is missing" in message:
                problem.state = "missing"
            if oid is not None:
                problem.users, problem.more_users = by_oid[oid].users, by_oid[oid].more_users
            found.append(problem)
        return found

    def check_one(item: Needed) -> Problem | None:
        try:
            with store.errors(f"reading {item.oid}"):
                stream = store.open_object(item.oid, item.users[0] if item.users else "")
                with stream:
                    actual, _ = hash_stream(stream)
        except ObjectNotFoundError as exc:
            return Problem(item.oid, "remote", "missing", exc.message, item.users, item.more_users)
        except IntegrityError as exc:
            return Problem(item.oid, "remote", "corrupt", exc.message, item.users, item.more_users)
        if actual != item.oid:
            message = f"{item.oid} on remote '{store.name}' hashes to {actual}"
            return Problem(item.oid, "remote", "corrupt", message, item.users, item.more_users)
        return None

    with ThreadPoolExecutor(max(1, min(store.jobs, 8))) as pool:
        for found in pool.map(check_pack, sorted(groups)):
            report.problems += found
    report.problems += _parallel(check_one, [by_oid[oid] for oid in rest])
    report.remote_objects = len(by_oid)


def _repair(ws: Workspace, store: RemoteStore, report: VerifyReport, sizes: dict[Oid, int]) -> None:
    for problem in report.problems:
        if problem.place != "cache" or problem.oid is None:
            continue
        oid = problem.oid
        if problem.state == "corrupt":
            ws.cache.quarantine(oid)
        try:
            store.download(oid, sizes.get(oid, 0), ws.cache, lambda _n: None)
        except (ObjectNotFoundError, IntegrityError) as exc:
            problem.message += f"; not repaired: {exc.message}"
            continue
        problem.repaired = ws.cache.verify(oid)


def verify(
    ws: Workspace,
    *,
    remote: str | None = None,
    all_commits: bool = False,
    repair: bool = False,
    open_store: Callable[[str | None], RemoteStore],
) -> VerifyReport:
    report = VerifyReport("all-commits" if all_commits else "workspace")
    opened: list[RemoteStore] = []
    use_remote = remote is not None or repair

    def store() -> RemoteStore | None:
        if not use_remote:
            return None
        if not opened:
            opened.append(open_store(remote))
        return opened[0]

    needs = _Needs(ws, store)
    _collect(ws, needs, all_commits)
    objects = sorted(needs.objects.values(), key=lambda o: str(o.oid))
    for item in objects:
        if item.size == 0:  # manifests: their size is what is on disk
            with contextlib.suppress(FileNotFoundError):
                item.size = os.stat(ws.cache.path(item.oid)).st_size
    report.objects = len(objects)
    report.bytes = sum(o.size for o in objects)
    report.problems += needs.unreadable
    _check_cache(ws, objects, report)
    if remote is not None:
        the_store = store()
        assert the_store is not None
        report.remote = the_store.name
        _check_remote(the_store, objects, report)
    if repair and any(p.place == "cache" for p in report.problems):
        the_store = store()
        assert the_store is not None
        report.remote = the_store.name
        _repair(ws, the_store, report, {o.oid: o.size for o in objects})
    return report
