"""rich progress columns that follow each task's unit: a "bytes" task shows sizes and
speed, any other unit (files, objects) a count."""

from __future__ import annotations

from rich.progress import (
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TransferSpeedColumn,
)
from rich.text import Text


def _is_bytes(task: Task) -> bool:
    return task.fields.get("unit") == "bytes"


class CountOrSize(ProgressColumn):
    def __init__(self) -> None:
        super().__init__()
        self._size = DownloadColumn()
        self._count = MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        if _is_bytes(task):
            return self._size.render(task)
        unit = task.fields.get("unit", "")
        counted = self._count.render(task)
        return Text(f"{counted.plain} {unit}".rstrip())


class SpeedIfBytes(ProgressColumn):
    def __init__(self) -> None:
        super().__init__()
        self._speed = TransferSpeedColumn()

    def render(self, task: Task) -> Text:
        return self._speed.render(task) if _is_bytes(task) else Text("")
