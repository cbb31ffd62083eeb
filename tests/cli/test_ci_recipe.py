"""The CI recipe of docs/ci.md played end to end: a developer runs the pipeline and pushes
(data, stage outputs and run-cache) to S3 (moto's server); a CI job starts from a fresh
clone with no cache and S3 credentials only in its environment, runs `gitml repro
--pull`, recomputes nothing and ends with byte-identical outputs; a second job after a
parameter change re-runs only the stage that depends on it, and a third restores even
that one from the run-cache the second pushed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import git, make_repo, run_gitml, write
from tests.s3_endpoint import S3Endpoint

# What a CI system hands the job from its secret store; nothing else reaches gitml.
CI_SECRETS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "CI": "true",
}

PREPARE = """\
import pathlib
rows = pathlib.Path("data/raw.csv").read_text().splitlines()
pathlib.Path("clean.csv").write_text("\\n".join(r.strip().lower() for r in rows) + "\\n")
"""
TRAIN = """\
import json, pathlib, yaml
lr = yaml.safe_load(open("params.yaml"))["lr"]
rows = pathlib.Path("clean.csv").read_text().splitlines()
pathlib.Path("model.bin").write_bytes(f"model lr={lr} rows={len(rows)}".encode() * 100)
json.dump({"rows": len(rows), "lr": lr}, open("metrics.json", "w"))
"""


def _developer(tmp_path: Path, bucket: str, endpoint: str, log: Path) -> Path:
    root = make_repo(tmp_path / "dev")
    run_gitml("init", cwd=root)
    write(root / "data" / "raw.csv", "".join(f"Row {i}, Value {i * 7}\n" for i in range(500)))
    write(root / "prepare.py", PREPARE)
    write(root / "train.py", TRAIN)
    write(root / "params.yaml", "lr: 0.1\n")
    run_gitml("add", "data", cwd=root)
    run_gitml("remote", "add", "-d", "shared", f"s3://{bucket}/project", cwd=root)
    run_gitml("remote", "modify", "shared", "endpoint_url", endpoint, cwd=root)
    py = sys.executable
    run_gitml(
        "stage", "add", "-n", "prepare", "-d", "prepare.py", "-d", "data", "-o", "clean.csv",
        f"{py} prepare.py && echo prepare >> {log}",
        cwd=root,
    )  # fmt: skip
    run_gitml(
        "stage", "add", "-n", "train", "-d", "train.py", "-d", "clean.csv", "-p", "lr",
        "-o", "model.bin", "-m", "metrics.json",
        f"{py} train.py && echo train >> {log}",
        cwd=root,
    )  # fmt: skip
    run_gitml("repro", cwd=root, env=CI_SECRETS)
    assert log.read_text().split() == ["prepare", "train"]
    run_gitml("push", cwd=root, env=CI_SECRETS)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "pipeline", cwd=root)
    return root


def _ci_job(tmp_path: Path, name: str, bare: Path) -> Path:
    job = tmp_path / name
    git("clone", "-q", str(bare), str(job), cwd=tmp_path)
    assert not (job / ".gitml" / "cache").exists()  # a fresh machine: no cache at all
    return job


def _outputs(root: Path) -> dict[str, bytes]:
    return {n: (root / n).read_bytes() for n in ("clean.csv", "model.bin", "metrics.json")}


def test_ci_job_restores_everything_and_recomputes_nothing(
    tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    log = tmp_path / "runs.log"
    dev = _developer(tmp_path, s3_endpoint.new_bucket(), s3_endpoint.url, log)
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(dev), str(bare), cwd=tmp_path)

    job = _ci_job(tmp_path, "job1", bare)
    run_gitml("repro", "--pull", cwd=job, env=CI_SECRETS)
    assert log.read_text().split() == ["prepare", "train"]  # nothing ran in CI
    assert _outputs(job) == _outputs(dev)
    assert (job / "data" / "raw.csv").read_bytes() == (dev / "data" / "raw.csv").read_bytes()
    assert json.loads(run_gitml("status", "--json", cwd=job).stdout)["outputs"] == []
    remote = run_gitml("status", "--remote", "--json", cwd=job, env=CI_SECRETS)
    assert json.loads(remote.stdout)["missing_objects"] == 0

    # A parameter change is committed without running the pipeline: CI re-runs `train`
    # only, and pushes the result.
    write(dev / "params.yaml", "lr: 0.5\n")
    git("commit", "-qam", "lr 0.5", cwd=dev)
    git("push", "-q", str(bare), "main", cwd=dev)
    job2 = _ci_job(tmp_path, "job2", bare)
    run_gitml("repro", "--pull", cwd=job2, env=CI_SECRETS)
    assert log.read_text().split() == ["prepare", "train", "train"]
    assert json.loads((job2 / "metrics.json").read_text()) == {"rows": 500, "lr": 0.5}
    assert (job2 / "clean.csv").read_bytes() == (dev / "clean.csv").read_bytes()
    run_gitml("push", cwd=job2, env=CI_SECRETS)

    # The next job on the same commit restores `train` from the run-cache job2 pushed.
    job3 = _ci_job(tmp_path, "job3", bare)
    run_gitml("repro", "--pull", cwd=job3, env=CI_SECRETS)
    assert log.read_text().split() == ["prepare", "train", "train"]
    assert _outputs(job3) == _outputs(job2)


def test_ci_job_without_credentials_fails_with_one_line(
    tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    log = tmp_path / "runs.log"
    dev = _developer(tmp_path, s3_endpoint.new_bucket(), s3_endpoint.url, log)
    bare = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(dev), str(bare), cwd=tmp_path)
    job = _ci_job(tmp_path, "job", bare)
    no_secrets = {**CI_SECRETS, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    done = run_gitml("repro", "--pull", cwd=job, env=no_secrets, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("gitml: error: remote 'shared': no usable credentials")
    assert log.read_text().split() == ["prepare", "train"]  # and nothing ran
