"""Progress reporting interface; the core reports, the edge decides how to show it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol


class Task(Protocol):
    def advance(self, amount: int = 1) -> None: ...

    def __enter__(self) -> Task: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None, unit: str = "files") -> Task: ...


class _NullTask:
    def advance(self, amount: int = 1) -> None:
        pass

    def __enter__(self) -> _NullTask:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class NullProgress:
    def task(self, description: str, total: int | None, unit: str = "files") -> Task:
        return _NullTask()
