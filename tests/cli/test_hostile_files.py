"""Hostile or leftover files in a workspace (issue 19 defects 3, 9 and 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GITML, git, run_gitml, write


def test_a_symlinked_gitignore_is_refused_and_never_written_through(
    repo: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"secret outside the workspace\n")
    (repo / "sub").mkdir()
    os.symlink(secret, repo / "sub" / ".gitignore")
    write(repo / "sub" / "data.bin", b"data")
    result = run_gitml("add", "sub/data.bin", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "gitml: error: sub/.gitignore: is a symbolic link; "
        "gitml (like git) does not use a symlinked .gitignore"
    )
    assert (repo / "sub" / ".gitignore").is_symlink()
    assert secret.read_bytes() == b"secret outside the workspace\n"
    assert not (repo / "sub" / "data.bin.gitml").exists()


def test_commit_does_not_write_through_a_gitignore_symlinked_later(
    repo: Path, tmp_path: Path
) -> None:
    write(repo / "data.bin", b"one")
    run_gitml("add", "data.bin", cwd=repo)
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"secret\n")
    (repo / ".gitignore").unlink()
    os.symlink(secret, repo / ".gitignore")
    write(repo / "data.bin", b"two")
    result = run_gitml("commit", cwd=repo, check=False)
    assert result.returncode == 1 and "symbolic link" in result.stderr
    assert (repo / ".gitignore").is_symlink() and secret.read_bytes() == b"secret\n"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_temp_files_of_killed_processes_are_reported_then_removed(repo: Path) -> None:
    tmp = repo / ".gitml" / "cache" / "tmp"
    dead = tmp / f".tmp-{_dead_pid()}-0123456789ab-7"
    live = tmp / f".tmp-{os.getpid()}-0123456789ab-8"
    other = tmp / "not-ours"
    for path in (dead, live, other):
        write(path, b"x" * 300_000)

    doctor = run_gitml("doctor", "--json", cwd=repo, check=False)
    stale = json.loads(doctor.stdout)["cache"]["stale_temp_files"]
    assert stale == {"count": 1, "bytes": 300_000}
    text = run_gitml("doctor", cwd=repo, check=False).stdout
    assert "stale temp files: 1 (293.0 KiB) left by killed gitml processes" in text

    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    assert not dead.exists()
    assert live.exists() and other.exists()
    again = json.loads(run_gitml("doctor", "--json", cwd=repo, check=False).stdout)
    assert again["cache"]["stale_temp_files"] == {"count": 0, "bytes": 0}


def _max_rss_mib(*args: str, cwd: Path) -> tuple[int, str]:
    """Peak RSS of `gitml ARGS` (MiB) and its stderr."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    assert GITML
    proc = subprocess.run(
        [sys.executable, "-c", code, GITML, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "1"},
        check=True,
    )
    return int(proc.stdout), proc.stderr


def test_a_huge_pointer_file_is_refused_without_reading_it_whole(repo: Path) -> None:
    write(repo / "f", b"f")
    run_gitml("add", "f", cwd=repo)
    with open(repo / "f.gitml", "r+b") as handle:  # sparse: 200 MB, no disk used
        handle.truncate(200 * 1024 * 1024)
    rss, stderr = _max_rss_mib("status", cwd=repo)
    assert "f.gitml: not a gitml pointer (larger than 1024 bytes)" in stderr
    assert rss < 150, f"status used {rss} MiB reading a 200 MB pointer"


def test_a_huge_committed_pointer_is_refused_without_reading_it_whole(repo: Path) -> None:
    with open(repo / "big.gitml", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    git("add", "-f", "big.gitml", cwd=repo)
    git("commit", "-qm", "hostile", cwd=repo)
    rss, stderr = _max_rss_mib("ls", "--rev", "HEAD", cwd=repo)
    assert "big.gitml: not a gitml pointer (larger than 1024 bytes)" in stderr
    assert rss < 150, f"ls used {rss} MiB reading a 200 MB pointer"
