"""Progress columns follow each task's unit: sizes and speed for bytes, counts otherwise."""

from __future__ import annotations

from rich.progress import Progress

from gitml.ui_columns import CountOrSize, SpeedIfBytes


def test_files_task_shows_a_count_and_no_speed() -> None:
    progress = Progress()
    progress.add_task("Checkout", total=10, unit="files", completed=3)
    (task,) = progress.tasks
    assert CountOrSize().render(task).plain == " 3/10 files"
    assert SpeedIfBytes().render(task).plain == ""


def test_bytes_task_shows_sizes() -> None:
    progress = Progress()
    progress.add_task("Push", total=10_000_000, unit="bytes", completed=3_000_000)
    (task,) = progress.tasks
    assert CountOrSize().render(task).plain == "3.0/10.0 MB"
