"""Progress bars move by bytes within one large file (issue 18): hashing and caching it on
`add`, its chunks on `push` and `pull`, not once per file. A recording Progress (what the
terminal bar would be fed) checks the counts add up to the file's size in several steps."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

import pytest

from gitml.ops.add import add
from gitml.ops.pull import pull
from gitml.ops.push import push
from gitml.remote import sizes
from gitml.workspace import Workspace
from tests.conftest import git, make_repo, run_gitml, write

MiB = 1024 * 1024
SIZE = 72 * MiB + 123  # hashed in 3 windows of at most 32 MiB; 9 chunk batches of 8 MiB


class RecordedTask:
    def __init__(self, description: str, total: int | None, unit: str) -> None:
        self.description, self.total, self.unit = description, total, unit
        self.steps: list[int] = []
        self._lock = threading.Lock()

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            self.steps.append(amount)

    def __enter__(self) -> RecordedTask:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.tasks: list[RecordedTask] = []

    def task(self, description: str, total: int | None, unit: str = "files") -> RecordedTask:
        self.tasks.append(RecordedTask(description, total, unit))
        return self.tasks[-1]

    def named(self, prefix: str) -> RecordedTask:
        (task,) = [t for t in self.tasks if t.description.startswith(prefix)]
        return task


def _moves_by_bytes(task: RecordedTask) -> None:
    assert task.unit == "bytes" and task.total == SIZE
    assert sum(task.steps) == SIZE, task.steps
    assert len(task.steps) >= 3, f"{task.description}: {task.steps}"  # not once per file
    assert max(task.steps) <= 32 * MiB, task.steps


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sizes, "CHUNK_MIN", 8 * MiB)


def test_add_push_pull_of_one_large_file_report_bytes(tmp_path: Path, chunked: None) -> None:
    root = make_repo(tmp_path / "src")
    run_gitml("init", cwd=root)
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=root)
    write(root / "big.bin", os.urandom(SIZE))

    adding = Recorder()
    add(Workspace.find(root, progress=adding), [str(root / "big.bin")])
    _moves_by_bytes(adding.named("Hashing"))  # hashed (and, large, copied) in one read
    caching = adding.named("Caching")  # nothing left to cache if stored while hashed
    assert caching.total == 0 or len(caching.steps) >= 3, caching.steps
    assert sum(caching.steps) == caching.total

    pushing = Recorder()
    result = push(Workspace.find(root, progress=pushing))
    assert not result.failed
    _moves_by_bytes(pushing.named("Push to store"))
    git("add", "-A", cwd=root)
    git("commit", "-qm", "big", cwd=root)

    clone = tmp_path / "clone"
    git("clone", "-q", str(root), str(clone), cwd=tmp_path)
    pulling = Recorder()
    pulled = pull(Workspace.find(clone, progress=pulling))
    assert not pulled.failed and not pulled.fetch.failed and pulled.restored == ["big.bin"]
    _moves_by_bytes(pulling.named("Fetch from store"))
    assert (clone / "big.bin").read_bytes() == (root / "big.bin").read_bytes()
