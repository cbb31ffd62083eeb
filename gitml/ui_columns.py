"""rich progress columns that follow each task's unit: a "bytes" task shows sizes and
speed, any other unit (files, objects) a count. Sizes are binary (KiB, MiB, GiB), as in
every summary gitml prints."""

from __future__ import annotations

from rich import filesize
from rich.progress import DownloadColumn, MofNCompleteColumn, ProgressColumn, Task
from rich.text import Text

_BINARY = ["B", "KiB", "MiB", "GiB", "TiB"]


def _is_bytes(task: Task) -> bool:
    return task.fields.get("unit") == "bytes"


class CountOrSize(ProgressColumn):
    def __init__(self) -> None:
        super().__init__()
        self._size = DownloadColumn(binary_units=True)
        self._count = MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        if _is_bytes(task):
            return self._size.render(task)
        unit = task.fields.get("unit", "")
        counted = self._count.render(task)
        return Text(f"{counted.plain} {unit}".rstrip())


class SpeedIfBytes(ProgressColumn):
    def render(self, task: Task) -> Text:
        if not _is_bytes(task):
            return Text("")
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("?", style="progress.data.speed")
        unit, suffix = filesize.pick_unit_and_suffix(int(speed), _BINARY, 1024)
        return Text(f"{speed / unit:.1f} {suffix}/s", style="progress.data.speed")
