"""A checkout killed half-way is finished by running it again, with nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.helpers import read_tree
from tests.conftest import GITML, run_gitml, write


def _dataset(repo: Path, count: int) -> dict[str, bytes]:
    for i in range(count):
        write(repo / "data" / f"d{i % 20:02}" / f"f{i:05}.bin", os.urandom(512) + str(i).encode())
    run_gitml("add", "data", cwd=repo)
    return read_tree(repo / "data")


def test_killed_checkout_is_finished_by_a_rerun_without_force(repo: Path) -> None:
    expected = _dataset(repo, 3000)
    subprocess.run(["rm", "-rf", str(repo / "data")], check=True)
    assert GITML
    proc = subprocess.Popen([GITML, "checkout"], cwd=repo, env={**os.environ, "CI": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (repo / "data").is_dir() and sum(1 for _ in (repo / "data").rglob("*.bin")) > 300:
            break
        time.sleep(0.005)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = run_gitml("checkout", cwd=repo)
    assert result.returncode == 0
    assert read_tree(repo / "data") == expected
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
    assert not (repo / ".gitml" / "tmp" / "checkout-journal").exists()


def test_half_written_file_from_a_killed_checkout_is_not_mistaken_for_a_user_edit(
    repo: Path,
) -> None:
    expected = _dataset(repo, 5)
    subprocess.run(["rm", "-rf", str(repo / "data")], check=True)
    # What kill -9 leaves behind: the journal, and a file cut short while it was written.
    name = "data/d00/f00000.bin"
    write(repo / ".gitml" / "tmp" / "checkout-journal", name + "\n")
    write(repo / name, expected["d00/f00000.bin"][:100])
    run_gitml("checkout", cwd=repo)
    assert read_tree(repo / "data") == expected


def test_a_user_edit_outside_the_journal_still_blocks_checkout(repo: Path) -> None:
    _dataset(repo, 5)
    write(repo / ".gitml" / "tmp" / "checkout-journal", "data/d00/f00000.bin\n")
    write(repo / "data" / "d01" / "f00001.bin", b"my edit")
    result = run_gitml("checkout", cwd=repo, check=False)
    assert result.returncode == 1
    assert "uncommitted changes" in result.stderr
    assert (repo / "data" / "d01" / "f00001.bin").read_bytes() == b"my edit"
