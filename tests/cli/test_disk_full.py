"""A full disk: one-line error, exit 1, nothing half-written, and the same command finishes
the job once there is room. The workspace (and its cache) lives on a small tmpfs mounted for
the test; mounting needs root, so elsewhere these tests are skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import assert_user_error, verify_cache
from tests.conftest import git, make_repo, run_gitml, write

SIZE_MIB = 16
MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MIB}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _leftovers(repo: Path) -> list[Path]:
    tmp = repo / ".gitml" / "cache" / "tmp"
    return sorted(tmp.iterdir()) if tmp.is_dir() else []


def test_add_on_a_full_disk_loses_nothing_and_finishes_later(small_disk: Path) -> None:
    repo = make_repo(small_disk / "repo")
    run_gitml("init", cwd=repo)
    data = os.urandom(6 * MiB)
    write(repo / "a.bin", data)
    write(repo / "filler.bin", os.urandom(5 * MiB))  # the cache copy of a.bin cannot fit

    result = run_gitml("add", "a.bin", cwd=repo, check=False)
    assert_user_error(result, "no space left on device")
    assert (repo / "a.bin").read_bytes() == data
    assert not (repo / "a.bin.gitml").exists()
    assert "a.bin" not in (
        (repo / ".gitignore").read_text() if (repo / ".gitignore").exists() else ""
    )
    assert verify_cache(repo) == {}
    assert _leftovers(repo) == []

    (repo / "filler.bin").unlink()
    run_gitml("add", "a.bin", cwd=repo)
    assert len(verify_cache(repo)) == 1
    assert (repo / "a.bin").read_bytes() == data
    assert "Everything is up to date" in run_gitml("status", cwd=repo).stdout


def test_pull_onto_a_full_disk_loses_nothing_and_finishes_later(
    small_disk: Path, tmp_path: Path
) -> None:
    source = make_repo(tmp_path / "source")
    run_gitml("init", cwd=source)
    files = {f"data/f{i}.bin": os.urandom(MiB) for i in range(6)}
    for name, data in files.items():
        write(source / name, data)
    run_gitml("add", "data", cwd=source)
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-qm", "data", cwd=source)
    run_gitml("push", cwd=source)

    clone = small_disk / "clone"
    git("clone", "-q", str(source), str(clone), cwd=small_disk)
    write(clone / "filler.bin", os.urandom(8 * MiB))  # room for the cache, not for a checkout too
    result = run_gitml("pull", cwd=clone, check=False)
    assert_user_error(result, "no space left on device")
    verify_cache(clone)  # whatever entered the cache is whole and verified
    assert _leftovers(clone) == []
    for name, data in files.items():  # and a file in the workspace is complete or absent
        path = clone / name
        assert not path.exists() or path.read_bytes() == data, name

    (clone / "filler.bin").unlink()
    run_gitml("pull", cwd=clone)
    for name, data in files.items():
        assert (clone / name).read_bytes() == data, name
    assert "Everything is up to date" in run_gitml("status", cwd=clone).stdout
    shutil.rmtree(clone)


def test_push_to_a_full_folder_remote_finishes_later(small_disk: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    files = {f"data/f{i}.bin": os.urandom(2 * MiB) for i in range(5)}
    files["model.bin"] = os.urandom(5 * MiB)
    for name, data in files.items():
        write(repo / name, data)
    run_gitml("add", "data", "model.bin", cwd=repo)
    store = small_disk / "store"
    run_gitml("remote", "add", "-d", "store", str(store), cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    filler = write(small_disk / "filler.bin", os.urandom(8 * MiB))

    result = run_gitml("push", cwd=repo, check=False)
    assert_user_error(result, "remote 'store' is full", "no space left on device")
    temp_names = [p for p in store.rglob("*") if p.name.startswith(".tmp-")]
    assert temp_names == []  # nothing half-written left under a temporary name
    status = json.loads(run_gitml("status", "--remote", "--json", cwd=repo).stdout)
    assert status["missing_objects"] > 0

    filler.unlink()
    run_gitml("push", cwd=repo)
    # Nothing half-written under a real name either: the second push trusted what the
    # remote listed, and the pull below verifies every byte it gets.
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    run_gitml("pull", cwd=clone)
    for name, data in files.items():
        assert (clone / name).read_bytes() == data, name
