"""Terminal progress with rich; shown only on an interactive stderr, never in pipes or CI."""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

from gitml.progress import NullProgress, Progress, Task


def wants_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and not os.environ.get("CI")


class _RichTask:
    def __init__(self, owner: RichProgress, description: str, total: int | None, unit: str) -> None:
        self._owner = owner
        self._description = description
        self._total = total
        self._unit = unit
        self._id: Any = None

    def __enter__(self) -> _RichTask:
        self._id = self._owner.start(self._description, self._total, self._unit)
        return self

    def advance(self, amount: int = 1) -> None:
        self._owner.bar.advance(self._id, amount)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._owner.finish(self._id)


class RichProgress:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from gitml.ui_columns import CountOrSize, SpeedIfBytes

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            CountOrSize(),
            SpeedIfBytes(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._active = 0

    def start(self, description: str, total: int | None, unit: str) -> Any:
        if self._active == 0:
            self.bar.start()
        self._active += 1
        return self.bar.add_task(description, total=total, unit=unit)

    def finish(self, task_id: Any) -> None:
        self.bar.remove_task(task_id)
        self._active -= 1
        if self._active == 0:
            self.bar.stop()

    def task(self, description: str, total: int | None, unit: str = "files") -> Task:
        return _RichTask(self, description, total, unit)


def make_progress(quiet: bool) -> Progress:
    return RichProgress() if wants_progress(quiet) else NullProgress()
