"""`gitml repro --executor dask`: stages as tasks on a real Dask cluster (a LocalCluster
of two worker processes on loopback), data through a real folder remote."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.executor_support import alive, make_pipeline, output_bytes, run_markers
from tests.cli.helpers import object_path
from tests.cli.schema_support import assert_schema_failure_records_nothing
from tests.conftest import GITML, make_repo, run_gitml, write


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    import dask
    from distributed import LocalCluster

    # A worker that dies fails its task at once (the default retries it on another worker).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0",
        )  # fmt: skip
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def _repo(tmp_path: Path, name: str, remote: bool = True) -> Path:
    repo = make_repo(tmp_path / name)
    run_gitml("init", cwd=repo)
    if remote:
        run_gitml("remote", "add", "-d", "origin", str(tmp_path / f"{name}-store"), cwd=repo)
    return repo


def test_same_lock_and_bytes_as_local_and_process(tmp_path: Path, scheduler: str) -> None:
    local, process, dask = (_repo(tmp_path, n) for n in ("local", "process", "dask"))
    for repo in (local, process, dask):
        make_pipeline(repo)
    run_gitml("repro", "-j", "2", cwd=local)
    run_gitml("repro", "-j", "2", "--executor", "process", cwd=process)
    result = run_gitml("repro", "-j", "2", "--executor", "dask", "--address", scheduler, cwd=dask)

    assert "[prep] prepared 3 parts" in result.stdout
    expected = (local / "gitml.lock").read_bytes()
    assert (process / "gitml.lock").read_bytes() == expected
    assert (dask / "gitml.lock").read_bytes() == expected
    assert output_bytes(process) == output_bytes(local)
    assert output_bytes(dask) == output_bytes(local)
    assert len(run_markers(dask)) == 2
    # The workers pushed every output object to the remote themselves.
    store = tmp_path / "dask-store"
    stages = yaml.safe_load((dask / "gitml.lock").read_text())["stages"]
    for out in [o for stage in stages.values() for o in stage["outs"]]:
        hexdigest = out["oid"].removeprefix("blake3:")
        assert list(store.rglob(hexdigest[2:])), f"{out['path']} is not on the remote"
    assert (
        "Everything is up to date."
        in run_gitml("repro", "--executor", "dask", "--address", scheduler, cwd=dask).stdout
    )


def test_address_from_config_and_outputs_left_on_the_remote(tmp_path: Path, scheduler: str) -> None:
    repo = _repo(tmp_path, "repo")
    (repo / ".gitml" / "config").write_text(
        (repo / ".gitml" / "config").read_text() + f'\n[executor]\naddress = "{scheduler}"\n'
    )
    make_pipeline(repo)
    run_gitml("repro", "--executor", "dask", "--no-download", cwd=repo)
    assert not (repo / "model.bin").exists() and (repo / "metrics.txt").exists()
    model = yaml.safe_load((repo / "gitml.lock").read_text())["stages"]["train"]["outs"][0]
    assert not object_path(repo, model["oid"]).exists()  # not fetched into the cache either
    run_gitml("pull", cwd=repo)
    assert (repo / "model.bin").stat().st_size == 68
    assert "Everything is up to date." in run_gitml("repro", cwd=repo).stdout


def test_worker_killed_mid_stage_then_rerun_finishes(tmp_path: Path, scheduler: str) -> None:
    repo = _repo(tmp_path, "repo")
    flag = tmp_path / "killed-once"
    write(repo / "in.txt", "x")
    run_gitml("add", "in.txt", cwd=repo)
    write(
        repo / "gitml.yaml",
        "stages:\n  fragile:\n"
        f"    cmd: if [ ! -e {flag} ]; then touch {flag}; kill -9 $PPID; sleep 5; fi; "
        "cp in.txt out.txt\n"
        "    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    args = ("repro", "--executor", "dask", "--address", scheduler)
    result = run_gitml(*args, cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gitml: error: stage 'fragile' failed: the Dask worker running it died mid-stage"
    ]
    assert not (repo / "gitml.lock").exists() and not (repo / "out.txt").exists()
    assert run_markers(repo) == []
    run_gitml(*args, cwd=repo)
    assert (repo / "out.txt").read_text() == "x"


def test_resources_nobody_offers_and_timeouts_fail_naming_the_stage(
    tmp_path: Path, scheduler: str
) -> None:
    repo = _repo(tmp_path, "repo")
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  big:\n    cmd: cp in.txt big.txt\n    deps: [in.txt]\n    outs: [big.txt]\n"
        "    resources: {gpus: 1, memory: 1GiB}\n"
        "  slow:\n    cmd: sleep 30; cp in.txt slow.txt\n    deps: [in.txt]\n"
        "    outs: [slow.txt]\n    resources: {timeout: 1}\n",
    )
    started = time.monotonic()
    result = run_gitml(
        "repro", "-k", "-j", "2", "--executor", "dask", "--address", scheduler, cwd=repo,
        check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 25
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "big: no worker of Dask scheduler" in line and "gpus=1,memory=1.07374e+09" in line
    assert "slow: timed out after 1 s" in line
    assert not (repo / "gitml.lock").exists()


def test_scheduler_that_does_not_answer_is_one_line(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  s:\n    cmd: cp in.txt o\n    deps: [in.txt]\n    outs: [o]\n",
    )
    run_gitml("remote", "add", "-d", "origin", str(repo.parent / "store"), cwd=repo)
    (repo / ".gitml" / "config").write_text(
        (repo / ".gitml" / "config").read_text() + "\n[executor]\ntimeout = 2\n"
    )
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never says a word
    try:
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = run_gitml(
            "repro", "--executor", "dask", "--address", address, cwd=repo, check=False
        )
        assert (
            time.monotonic() - started < 60
        )  # without a bound of its own, Dask waits as long as the peer stays silent
    finally:
        silent.close()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"gitml: error: Dask scheduler {address} did not answer within 2 s"
    ]
    assert not (repo / "gitml.lock").exists()


def test_ctrl_c_cancels_the_task_and_stops_its_command(tmp_path: Path, scheduler: str) -> None:
    repo = _repo(tmp_path, "repo")
    pid_file = tmp_path / "command.pid"
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  slow:\n"
        f"    cmd: echo $$ > {pid_file}; sleep 60; cp in.txt out.txt\n"
        "    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    assert GITML
    proc = subprocess.Popen(
        [GITML, "repro", "--executor", "dask", "--address", scheduler], cwd=repo,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the stage never started"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    command_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    deadline = time.monotonic() + 10
    while alive(command_pid):
        assert time.monotonic() < deadline, "the command outlived the cancelled repro"
        time.sleep(0.05)
    assert not (repo / "gitml.lock").exists() and not (repo / "out.txt").exists()
    assert run_markers(repo) == []


def test_jobs_bound_how_many_tasks_run_at_once(tmp_path: Path, scheduler: str) -> None:
    repo = _repo(tmp_path, "repo")
    log = tmp_path / "spans.log"
    write(repo / "in.txt", "x")
    stages = "".join(
        f"  s{i}:\n    cmd: echo start $(date +%s.%N) >> {log}; sleep 1; "
        f"echo end $(date +%s.%N) >> {log}; cp in.txt o{i}\n"
        f"    deps: [in.txt]\n    outs: [o{i}]\n"
        for i in range(2)
    )
    write(repo / "gitml.yaml", "stages:\n" + stages)
    run_gitml("repro", "-j", "1", "--executor", "dask", "--address", scheduler, cwd=repo)
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert events == ["start", "end", "start", "end"]  # two workers, yet one at a time


def test_out_breaking_its_schema_fails_the_stage_on_a_dask_worker(
    tmp_path: Path, scheduler: str
) -> None:
    repo = _repo(tmp_path, "repo")
    args = ("--executor", "dask", "--address", scheduler)
    assert_schema_failure_records_nothing(repo, *args, store=tmp_path / "repo-store")
