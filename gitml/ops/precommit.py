"""The pre-commit check: tracked outputs whose data changed but whose pointer (or
gitml.lock) was not updated, and updated pointers that are not staged.

It must be fast on a clean workspace, so it does not run the whole status use case
every time. For each output it remembers, in `.gitml/tmp/clean-outputs.json`, a
fingerprint of what the status use case last found clean: the pointer file's bytes and
(path, inode, mtime_ns, size, mode) of every file of the output. When both are the
same, the output is clean (the stat cache's rule, and git's); otherwise the status use
case decides and, if the output is clean and no file of it was modified within the racy
window, the fingerprint is recorded. The file is a hint: a missing, stale or malformed
one costs the full check, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import stat as stat_mod
import time
from dataclasses import dataclass, field

from gitml import git
from gitml.fsutil import atomic_write_bytes
from gitml.pointer import MAX_POINTER_BYTES, pointer_path_for
from gitml.statscan import fingerprint, scan_stats
from gitml.workspace import Workspace

SNAPSHOT = "clean-outputs.json"
_RACY_NS = 2_000_000_000  # git's coarse window: safe on every filesystem
_FLAGGED = ("modified", "error")  # "deleted"/"not in cache": nothing new to record


@dataclass
class Problem:
    path: str
    state: str  # modified | error | pointer not staged | stage stale
    message: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"path": self.path, "state": self.state}
        if self.message:
            data["message"] = self.message
        return data


@dataclass
class PreCommitReport:
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0  # outputs looked at
    fast: int = 0  # of those, found clean by their fingerprint alone


def _fingerprint(path: str) -> tuple[str, int] | None:
    """(digest of every file's path and stat, newest mtime_ns), or None when the output
    is absent: the same walk and digest as status's directory fingerprint."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    entries = scan_stats("", path) if stat_mod.S_ISDIR(st.st_mode) else [("", st)]
    return fingerprint(entries), max((s.st_mtime_ns for _, s in entries), default=0)


def _load(path: str) -> dict[str, list[str]]:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stage_problems(ws: Workspace) -> list[Problem]:
    """Stale pipeline stages (gitml.lock not updated), when this gitml has pipelines."""
    if not (ws.root / "gitml.yaml").exists():
        return []
    try:
        module = importlib.import_module("gitml.pipeline.status")
    except ImportError:
        return []
    return [Problem(s.name, "stage stale", s.describe()) for s in module.stage_status(ws)]


def check(ws: Workspace) -> PreCommitReport:
    report = PreCommitReport()
    snapshot_path = os.path.join(ws.tmp_dir, SNAPSHOT)
    old = _load(snapshot_path)
    new: dict[str, list[str]] = {}
    started = time.time_ns()
    try:
        for relpath in ws.tracked_outputs():
            report.checked += 1
            try:
                with open(ws.root / pointer_path_for(relpath), "rb") as f:
                    pointer_digest = hashlib.blake2b(
                        f.read(MAX_POINTER_BYTES + 1), digest_size=20
                    ).hexdigest()
                found = _fingerprint(str(ws.abspath(relpath)))
            except OSError:
                found = None
                pointer_digest = ""
            if found is not None and old.get(relpath) == [pointer_digest, found[0]]:
                report.fast += 1
                new[relpath] = old[relpath]
                continue
            from gitml.ops.status import output_status

            result = output_status(ws, relpath)
            if result is not None and result.state in _FLAGGED:
                report.problems.append(Problem(relpath, result.state, result.message))
            elif result is None and found is not None and started - found[1] > _RACY_NS:
                new[relpath] = [pointer_digest, found[0]]
    finally:
        ws.state.save()
    if new != old:
        with contextlib.suppress(OSError):
            os.makedirs(ws.tmp_dir, exist_ok=True)
            atomic_write_bytes(ws.tmp_dir / SNAPSHOT, json.dumps(new).encode())
    for name in git.unstaged_changes(ws.root, ["*.gitml", "gitml.lock"]):
        if not name.startswith(".gitml/"):
            report.problems.append(Problem(name, "pointer not staged"))
    report.problems += _stage_problems(ws)
    return report
