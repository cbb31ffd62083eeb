"""`gitml repro --executor process`: the executor protocol through local worker processes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.cli.executor_support import alive, make_pipeline, output_bytes, run_markers
from tests.cli.helpers import verify_cache
from tests.cli.schema_support import assert_schema_failure_records_nothing
from tests.conftest import GITML, git, make_repo, run_gitml, write
from tests.s3_endpoint import S3Endpoint


def _fresh(tmp_path: Path, name: str) -> Path:
    repo = make_repo(tmp_path / name)
    run_gitml("init", cwd=repo)
    return repo


def test_same_lock_and_bytes_as_a_local_run(tmp_path: Path) -> None:
    local, elsewhere = _fresh(tmp_path, "local"), _fresh(tmp_path, "process")
    for repo in (local, elsewhere):
        make_pipeline(repo)
    run_gitml("repro", "-j", "2", cwd=local)
    result = run_gitml("repro", "-j", "2", "--executor", "process", cwd=elsewhere)

    assert "prepared 3 parts" in result.stdout  # the command's output comes back
    assert (elsewhere / "gitml.lock").read_bytes() == (local / "gitml.lock").read_bytes()
    assert output_bytes(elsewhere) == output_bytes(local)
    assert output_bytes(elsewhere)["model.bin"][1] is True  # executable bit kept
    assert (elsewhere / ".gitignore").read_text() == (local / ".gitignore").read_text()
    assert (elsewhere / "work/.gitignore").read_text() == (local / "work/.gitignore").read_text()
    assert len(run_markers(elsewhere)) == len(run_markers(local)) == 2  # metrics stage: cache false
    verify_cache(elsewhere)
    again = run_gitml("repro", "--executor", "process", cwd=elsewhere)
    assert "Everything is up to date." in again.stdout


def test_stage_runs_in_a_scratch_folder_outside_the_workspace(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  where:\n    cmd: pwd > where.txt && echo $GITML_ROOT >> where.txt\n"
        "    deps: [in.txt]\n    outs: [where.txt]\n",
    )
    result = run_gitml("repro", "--executor", "process", "--json", cwd=repo)
    (stage,) = json.loads(result.stdout)["stages"]  # stdout holds only the JSON document
    assert stage["outcome"] == "ran" and stage["worker"]["host"] == socket.gethostname()
    assert stage["worker"]["duration"] >= 0 and stage["worker"]["cpu_seconds"] >= 0
    assert stage["worker"]["max_rss_mib"] > 0
    cwd, root = (repo / "where.txt").read_text().split()
    assert cwd == root
    assert not Path(cwd).resolve().is_relative_to(repo.resolve())
    assert not Path(cwd).exists()  # scratch removed afterwards


def test_undeclared_file_fails_on_the_worker_naming_it(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(repo / "notes.txt", "not declared")
    write(
        repo / "gitml.yaml",
        "stages:\n  sneaky:\n    cmd: cat in.txt notes.txt > out.txt\n"
        "    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    result = run_gitml("repro", "--executor", "process", cwd=repo, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "stage 'sneaky'" in lines[0] and "'notes.txt'" in lines[0]
    assert "not a declared dependency" in lines[0]
    assert not (repo / "gitml.lock").exists()
    assert not (repo / "out.txt").exists()
    assert run_markers(repo) == []


def test_failing_command_shows_its_output_and_records_nothing(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  bad:\n    cmd: echo 'loss is NaN' >&2; exit 3\n"
        "    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    result = run_gitml("repro", "--executor", "process", cwd=repo, check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()
    assert last == ["gitml: error: stage 'bad' failed: command exited with code 3: loss is NaN"]
    assert "[bad] loss is NaN" in result.stdout
    assert not (repo / "gitml.lock").exists() and run_markers(repo) == []

    write(
        repo / "gitml.yaml",
        "stages:\n  bad:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    run_gitml("repro", "--executor", "process", cwd=repo)
    assert (repo / "out.txt").read_text() == "x"


def test_worker_killed_mid_stage_then_rerun_finishes(repo: Path, tmp_path: Path) -> None:
    flag = tmp_path / "killed-once"
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  fragile:\n"
        f"    cmd: if [ ! -e {flag} ]; then touch {flag}; kill -9 $PPID; sleep 2; fi; "
        "cp in.txt out.txt\n"
        "    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    result = run_gitml("repro", "--executor", "process", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gitml: error: stage 'fragile' failed: the worker process was killed by signal 9 mid-stage"
    ]
    assert flag.exists()
    assert not (repo / "gitml.lock").exists() and not (repo / "out.txt").exists()
    assert run_markers(repo) == []

    run_gitml("repro", "--executor", "process", cwd=repo)
    assert (repo / "out.txt").read_text() == "x"
    assert "fragile" in (repo / "gitml.lock").read_text()


def test_ctrl_c_stops_the_worker_and_records_nothing(repo: Path, tmp_path: Path) -> None:
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
        [GITML, "repro", "--executor", "process"], cwd=repo,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the stage never started"
        time.sleep(0.05)
    command_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    deadline = time.monotonic() + 10
    while alive(command_pid):
        assert time.monotonic() < deadline, "the stage's command outlived the cancelled repro"
        time.sleep(0.05)
    assert not (repo / "gitml.lock").exists() and not (repo / "out.txt").exists()
    assert run_markers(repo) == []


def test_through_a_folder_remote_without_download(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_gitml("remote", "add", "-d", "origin", str(store), cwd=repo)
    make_pipeline(repo)
    result = run_gitml("repro", "--executor", "process", "-r", "origin", "--no-download", cwd=repo)
    assert "3 ran" in result.stdout
    lock = (repo / "gitml.lock").read_text()
    assert "model.bin" in lock
    # Cached outs stay on the remote; the metrics file (cache: false, git tracks it) is placed.
    assert not (repo / "model.bin").exists() and not (repo / "work/prepared").exists()
    assert (repo / "metrics.txt").read_text().strip() == "68"
    run_gitml("pull", cwd=repo)
    assert (repo / "model.bin").stat().st_size == 68
    assert len(list((repo / "work/prepared").iterdir())) == 3
    assert "up to date" in run_gitml("repro", cwd=repo).stdout
    git("add", "-A", cwd=repo)
    assert "model.bin" not in git("diff", "--cached", "--name-only", cwd=repo)


def test_unknown_executor_and_stray_options_are_usage_errors(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  s:\n    cmd: cp in.txt o\n    deps: [in.txt]\n    outs: [o]\n",
    )
    bad = run_gitml("repro", "--executor", "slurm", cwd=repo, check=False)
    assert bad.returncode == 1 and "unknown executor 'slurm'" in bad.stderr
    stray = run_gitml("repro", "--no-download", cwd=repo, check=False)
    assert stray.returncode == 2 and "--executor" in stray.stderr


def test_remote_the_worker_cannot_use_fails_naming_the_stage(
    repo: Path, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    """Workers get the remote's settings but never the driver's secrets: a worker without
    credentials of its own cannot fetch the inputs, and nothing is recorded."""
    run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/ml", cwd=repo)
    run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=repo)
    for key in ("access_key_id", "secret_access_key"):
        run_gitml("remote", "modify", "--local", "s3", key, "testing", cwd=repo)
    no_env_credentials = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    write(repo / "in.txt", "x")
    run_gitml("add", "in.txt", cwd=repo)
    write(
        repo / "gitml.yaml",
        "stages:\n  s:\n    cmd: cp in.txt o\n    deps: [in.txt]\n    outs: [o]\n",
    )

    result = run_gitml(
        "repro", "--executor", "process", "-r", "s3", cwd=repo, check=False, env=no_env_credentials
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("gitml: error: stage 's' failed: ") and "credentials" in line
    assert not (repo / "gitml.lock").exists() and not (repo / "o").exists()
    assert run_markers(repo) == []
    # The driver itself reached the remote: it pushed the input the worker was to fetch.
    keys = {o["Key"] for o in s3_endpoint.client().list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert any(k.startswith(("ml/objects/", "ml/packs/")) for k in keys), keys

    # With credentials of its own (here: the environment) the worker gets through.
    run_gitml("repro", "--executor", "process", "-r", "s3", cwd=repo)
    assert (repo / "o").read_text() == "x"


def test_timeout_from_resources_stops_the_command(repo: Path) -> None:
    write(repo / "in.txt", "x")
    write(
        repo / "gitml.yaml",
        "stages:\n  slow:\n    cmd: sleep 60; cp in.txt o\n    deps: [in.txt]\n    outs: [o]\n"
        "    resources:\n      timeout: 1s\n",
    )
    started = time.monotonic()
    result = run_gitml("repro", "--executor", "process", cwd=repo, check=False)
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gitml: error: stage 'slow' failed: timed out after 1 s"
    ]
    assert not (repo / "gitml.lock").exists()


def test_pipeline_in_a_subfolder(repo: Path) -> None:
    write(repo / "sub" / "in.txt", "x")
    write(
        repo / "sub" / "gitml.yaml",
        "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n",
    )
    result = run_gitml("repro", "--executor", "process", cwd=repo)
    assert "sub/gitml.yaml:copy" in result.stdout
    assert (repo / "sub" / "out.txt").read_text() == "x"
    assert "out.txt" in (repo / "sub" / "gitml.lock").read_text()


def test_out_breaking_its_schema_fails_the_stage_on_the_worker(repo: Path) -> None:
    assert_schema_failure_records_nothing(repo, "--executor", "process")


def test_out_breaking_its_schema_is_not_pushed(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_gitml("remote", "add", "origin", str(store), cwd=repo)
    args = ("--executor", "process", "-r", "origin", "--no-download")
    assert_schema_failure_records_nothing(repo, *args, store=store)
