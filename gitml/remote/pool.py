"""The transfer pool: runs one function per object (or per batch of objects, such as a
pack) on a thread pool, with progress. It knows nothing of remotes: what each call does
is the caller's (gitml.remote.policy decides that for pushes and fetches).

Per-object problems (a corrupt or missing object) are collected and the rest go on;
anything else (unreachable, credentials, permission, disk full) stops the queue at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from gitml.errors import IntegrityError, ObjectNotFoundError
from gitml.hashing import Oid
from gitml.progress import Progress


@dataclass(frozen=True)
class Item:
    oid: Oid
    size: int
    label: str  # a workspace path using the object, for messages


@dataclass
class Outcome:
    done: list[Item] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.done)


PER_OBJECT_ERRORS = (IntegrityError, ObjectNotFoundError)


def run(
    items: Sequence[Item],
    work: Callable[[Item, Callable[[int], None]], None],
    *,
    jobs: int,
    progress: Progress,
    description: str,
) -> Outcome:
    """Call `work(item, on_bytes)` for every item on `jobs` threads: `run_batches` with
    batches of one."""

    def one(batch: Sequence[Item], on_bytes: Callable[[int], None]) -> list[tuple[Item, str]]:
        (item,) = batch
        work(item, on_bytes)
        return []

    return run_batches(
        [[item] for item in items], one, jobs=jobs, progress=progress, description=description
    )


def run_batches(
    batches: Sequence[Sequence[Item]],
    work: Callable[[Sequence[Item], Callable[[int], None]], list[tuple[Item, str]]],
    *,
    jobs: int,
    progress: Progress,
    description: str,
) -> Outcome:
    """Call `work(batch, on_bytes)` per batch (e.g. one pack) on `jobs` threads; it returns
    the items of the batch that failed, with the reason. A per-object error raised by
    `work` fails the whole batch; anything else stops the queue."""
    outcome = Outcome()
    items = [item for batch in batches for item in batch]
    if not items:
        return outcome
    total = sum(i.size for i in items)
    files = f"{len(items)} file" + ("" if len(items) == 1 else "s")
    with progress.task(f"{description} ({files})", total, unit="bytes") as task:
        pool = ThreadPoolExecutor(max(1, jobs), thread_name_prefix="gitml-transfer")
        try:
            futures = {pool.submit(work, batch, task.advance): batch for batch in batches}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    batch = futures[future]
                    exc = future.exception()
                    if exc is None:
                        failed = future.result()
                        bad = {id(i) for i, _ in failed}
                        outcome.failed += failed
                        outcome.done += [i for i in batch if id(i) not in bad]
                    elif isinstance(exc, PER_OBJECT_ERRORS):
                        outcome.failed += [(i, str(exc)) for i in batch]
                    else:
                        for other in pending:
                            other.cancel()
                        raise exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return outcome
