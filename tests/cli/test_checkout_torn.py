"""A checkout killed mid-write leaves files that must not pass for user edits
(issue 19 defect 2): `status`, `add` and `commit` refuse until `checkout` finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.helpers import read_tree
from tests.conftest import GITML, run_gitml, write

_REFUSAL = "gitml: error: a checkout was interrupted; run 'gitml checkout' to finish"


def _many_files(repo: Path, count: int) -> dict[str, bytes]:
    for i in range(count):
        write(repo / "many" / f"d{i % 50:02}" / f"f{i:05}.bin", os.urandom(1024) + b"%d" % i)
    run_gitml("add", "many", cwd=repo)
    return read_tree(repo / "many")


def _kill_checkout_mid_write(repo: Path, after_files: int) -> None:
    assert GITML
    proc = subprocess.Popen([GITML, "checkout"], cwd=repo, env={**os.environ, "CI": "1"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        top = repo / "many"
        if top.is_dir() and sum(len(os.listdir(d)) for d in top.iterdir()) > after_files:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "checkout finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_checkout_of_20000_files_is_refused_until_checkout_finishes(repo: Path) -> None:
    expected = _many_files(repo, 20_000)
    pointer = (repo / "many.gitml").read_bytes()
    subprocess.run(["rm", "-rf", str(repo / "many")], check=True)
    _kill_checkout_mid_write(repo, after_files=2_000)
    torn = read_tree(repo / "many")
    assert 0 < len(torn) < len(expected)

    for command in (["status"], ["status", "--json"], ["commit"], ["commit", "many"]):
        result = run_gitml(*command, cwd=repo, check=False)
        assert result.returncode == 1, command
        assert result.stdout == ""
        assert result.stderr.splitlines()[0] == _REFUSAL
    assert run_gitml("add", "many", cwd=repo, check=False).returncode == 1
    assert (repo / "many.gitml").read_bytes() == pointer  # the torn tree was not recorded

    run_gitml("checkout", cwd=repo)
    assert read_tree(repo / "many") == expected
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
    assert not (repo / ".gitml" / "tmp" / "checkout-journal").exists()


def test_outputs_the_interrupted_checkout_did_not_touch_are_not_blocked(repo: Path) -> None:
    write(repo / "d" / "a", b"a")
    write(repo / "other", b"other")
    run_gitml("add", "d", "other", cwd=repo)
    (repo / "d" / "a").unlink()
    write(repo / ".gitml" / "tmp" / "checkout-journal", b"d/a\n")
    write(repo / "d" / "a", b"")  # what kill -9 leaves: the file created, not yet written
    write(repo / "other", b"edited")
    assert "other" in run_gitml("status", "other", cwd=repo).stdout
    run_gitml("commit", "other", cwd=repo)
    assert run_gitml("status", "d", cwd=repo, check=False).returncode == 1


def test_a_partial_checkout_keeps_the_journal_of_outputs_it_did_not_finish(repo: Path) -> None:
    write(repo / "d" / "a", b"a")
    write(repo / "e" / "b", b"b")
    run_gitml("add", "d", "e", cwd=repo)
    write(repo / ".gitml" / "tmp" / "checkout-journal", b"d/a\ne/b\n")
    write(repo / "d" / "a", b"")
    write(repo / "e" / "b", b"")
    run_gitml("checkout", "e", cwd=repo)
    assert (repo / "e" / "b").read_bytes() == b"b"
    result = run_gitml("status", cwd=repo, check=False)
    assert result.returncode == 1 and _REFUSAL in result.stderr
    run_gitml("checkout", cwd=repo)
    assert (repo / "d" / "a").read_bytes() == b"a"
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
