"""Progress columns follow each task's unit: sizes and speed for bytes, counts otherwise."""

from __future__ import annotations

from rich.progress import Progress

from gitml.cli.output import human_size
from gitml.ui_columns import CountOrSize, SpeedIfBytes


def test_files_task_shows_a_count_and_no_speed() -> None:
    progress = Progress()
    progress.add_task("Checkout", total=10, unit="files", completed=3)
    (task,) = progress.tasks
    assert CountOrSize().render(task).plain == " 3/10 files"
    assert SpeedIfBytes().render(task).plain == ""


def test_bytes_task_shows_binary_sizes_and_speed_as_the_summaries_do() -> None:
    """'GiB' in the bar as in 'Added model.bin (2.0 GiB)', never 'GB'."""
    progress = Progress()
    task_id = progress.add_task("Push", total=2 * 1024**3, unit="bytes", completed=0)
    progress.update(task_id, completed=1024**3)
    (task,) = progress.tasks
    assert CountOrSize().render(task).plain == "1.0/2.0 GiB"
    assert human_size(2 * 1024**3) == "2.0 GiB"
    task.finished_speed = 3 * 1024**2
    assert SpeedIfBytes().render(task).plain == "3.0 MiB/s"
