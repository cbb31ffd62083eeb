"""What a remote's failures look like to a user (issue 19 defects 5-8): one line naming
the remote and the cause, and reads that survive a dropped connection."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_repo, run_gitml, write
from tests.integration.test_s3_reads import verifying_endpoint

__all__ = ["verifying_endpoint"]
MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.parametrize("what", ["a large file", "small files"])
def test_a_full_folder_remote_is_named_with_its_path(
    repo: Path, small_disk: Path, what: str
) -> None:
    if what == "a large file":
        write(repo / "big", os.urandom(6 * MiB))
    else:
        for i in range(60):
            write(repo / "d" / f"f{i}", os.urandom(100_000))
    run_gitml("add", "big" if what == "a large file" else "d", cwd=repo)
    store = small_disk / "store"
    run_gitml("remote", "add", "-d", "full", str(store), cwd=repo)
    result = run_gitml("push", cwd=repo, check=False)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"gitml: error: remote 'full' is full: no space left on device at {store} while "
    )
    assert ".gitml/cache" not in line


def test_a_wrong_s3_key_is_reported_as_rejected_credentials(
    tmp_path: Path, verifying_endpoint: tuple[str, str, str, str]
) -> None:
    url, bucket, key, secret = verifying_endpoint
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "f", b"data")
    run_gitml("add", "f", cwd=repo)
    run_gitml("remote", "add", "-d", "s3", f"s3://{bucket}/store", cwd=repo)
    run_gitml("remote", "modify", "s3", "endpoint_url", url, cwd=repo)
    wrong_key = {"AWS_ACCESS_KEY_ID": "AKIA" + "X" * 16, "AWS_SECRET_ACCESS_KEY": secret}
    wrong_secret = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "wrong" + secret[5:]}
    for env, command in [
        (env, command)
        for env in (wrong_key, wrong_secret)
        for command in (["status", "--remote"], ["fetch"], ["push"])
    ]:
        result = run_gitml(*command, cwd=repo, env=env, check=False)
        assert result.returncode == 1, command
        [line] = result.stderr.splitlines()
        assert "credentials rejected" in line and "remote 's3'" in line, line
