"""The run-cache and stage outs through remotes (folder and S3 on moto's server): `push`
sends run-cache entries (objects first, marker last), `fetch`/`pull` bring them back
verified, and a fresh `git clone` plus `gitml repro --pull` restores every output
byte-identical without running any stage command."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.helpers import assert_user_error, porcelain, read_tree, verify_cache
from tests.cli.pipeline_support import install_step, read_log, step_cmd
from tests.conftest import Result, git, make_repo, run_gitml, write
from tests.s3_endpoint import S3Endpoint

OUTPUTS = ("gen.txt", "features", "model.bin", "metrics.json")
TRAIN_ARGS = ("--in", "features", "--in", "gen.txt", "--param", "params.yaml:lr")
TRAIN_ARGS += ("--out", "model.bin", "--out", "metrics.json")


class RemoteView:
    """What a user with direct access to the remote's storage sees (and can tamper with)."""

    def keys(self) -> set[str]:
        raise NotImplementedError

    def read(self, key: str) -> bytes:
        raise NotImplementedError

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def markers(self) -> list[tuple[str, str]]:
        """(run key, entry hex) of every run-cache marker."""
        found = []
        for key in self.keys():
            parts = key.split("/")
            if len(parts) == 4 and parts[0] == "runs":
                found.append((parts[1] + parts[2], parts[3]))
        return sorted(found)

    def locate(self, hexdigest: str) -> tuple[str, int, int | None]:
        """(key, offset, length) of an object: loose, or inside a pack (format 2)."""
        from gitml.hashing import Oid
        from gitml.packfile import parse_index

        keys = self.keys()
        loose = f"objects/blake3/{hexdigest[:2]}/{hexdigest[2:]}"
        if loose in keys:
            return loose, 0, None
        for key in keys:
            if key.startswith("packs/") and key.endswith(".idx"):
                pack_id = key.removeprefix("packs/").removesuffix(".idx")
                where = parse_index(self.read(key), pack_id, key).entries.get(Oid(hexdigest))
                if where is not None:
                    return f"packs/{pack_id}.pack", where[0], where[1]
        raise KeyError(hexdigest)

    def read_object(self, hexdigest: str) -> bytes:
        key, offset, length = self.locate(hexdigest)
        data = self.read(key)
        return data if length is None else data[offset : offset + length]

    def overwrite_object(self, hexdigest: str, data: bytes) -> None:
        """Replace an object's bytes where they are stored (same length inside a pack)."""
        key, offset, length = self.locate(hexdigest)
        if length is None:
            self.put(key, data)
            return
        assert len(data) == length
        whole = self.read(key)
        self.put(key, whole[:offset] + data + whole[offset + length :])

    def objects(self) -> set[str]:
        """Loose and packed objects (remote format 2)."""
        from gitml.packfile import parse_index

        keys = self.keys()
        found = {
            k.split("/")[2] + k.split("/")[3]
            for k in keys
            if k.startswith("objects/blake3/") and len(k.split("/")) == 4
        }
        for key in keys:
            if key.startswith("packs/") and key.endswith(".idx"):
                pack_id = key.removeprefix("packs/").removesuffix(".idx")
                index = parse_index(self.read(key), pack_id, key)
                found.update(oid.hexdigest for oid in index.entries)
        return found


class FolderView(RemoteView):
    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self) -> set[str]:
        if not self.root.exists():
            return set()
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(data)


class S3View(RemoteView):
    def __init__(self, endpoint: S3Endpoint, bucket: str, prefix: str) -> None:
        self.client = endpoint.client()
        self.bucket = bucket
        self.prefix = prefix

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + "/"
        )
        return {
            o["Key"][len(self.prefix) + 1 :] for page in pages for o in page.get("Contents", [])
        }

    def read(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")[
            "Body"
        ].read()
        return body

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)


Configure = Callable[[Path], None]  # adds the default remote to a repository


@dataclass
class Remote:
    configure: Configure
    view: RemoteView


@pytest.fixture
def folder_remote(tmp_path: Path) -> Remote:
    store = tmp_path / "store"

    def configure(repo: Path) -> None:
        run_gitml("remote", "add", "-d", "origin", str(store), cwd=repo)

    return Remote(configure, FolderView(store))


@pytest.fixture
def s3_remote(s3_endpoint: S3Endpoint, s3_bucket: str) -> Remote:
    def configure(repo: Path) -> None:
        run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/team/ml", cwd=repo)
        run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=repo)

    return Remote(configure, S3View(s3_endpoint, s3_bucket, "team/ml"))


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest) -> Remote:
    fixture: Remote = request.getfixturevalue(f"{request.param}_remote")
    return fixture


@dataclass
class Project:
    tmp: Path
    root: Path
    step: Path
    log: Path  # every stage command appends its name here (outside every workspace)

    def gitml(self, *args: str, cwd: Path | None = None, check: bool = True) -> Result:
        env = {"STEP_LOG": str(self.log)}
        return run_gitml(*args, cwd=cwd or self.root, check=check, env=env)

    def ran(self) -> list[str]:
        return read_log(self.log)

    def clone(self, name: str) -> Path:
        """A CI job: a fresh clone of what was pushed to the shared git repository."""
        bare = self.tmp / "origin.git"
        if not bare.exists():
            git("init", "-q", "--bare", str(bare), cwd=self.tmp)
        git("push", "-q", str(bare), "HEAD:main", cwd=self.root)
        job = self.tmp / name
        git("clone", "-q", "-b", "main", str(bare), str(job), cwd=self.tmp)
        assert not (job / ".gitml" / "cache").exists()
        return job


Extra = Callable[[Path], dict[str, Any]]  # more stages, given the step script


def _stages(step: Path, extra: Extra | None = None) -> dict[str, Any]:
    """gen (no deps: restored from gitml.lock only) -> train <- prepare <- data (tracked)."""
    return {
        "stages": {
            "gen": {"cmd": step_cmd(step, "gen", "--out", "gen.txt"), "outs": ["gen.txt"]},
            "prepare": {
                "cmd": step_cmd(step, "prepare", "--in", "data", "--out-dir", "features"),
                "deps": ["data"],
                "outs": ["features"],
            },
            "train": {
                "cmd": step_cmd(step, "train", *TRAIN_ARGS),
                "deps": ["features", "gen.txt"],
                "params": ["lr"],
                "outs": ["model.bin"],
                "metrics": ["metrics.json"],
            },
            **(extra(step) if extra else {}),
        }
    }


def make_project(tmp_path: Path, remote: Remote, extra: Extra | None = None) -> Project:
    root = make_repo(tmp_path / "dev")
    run_gitml("init", cwd=root)
    step = install_step(tmp_path)
    project = Project(tmp_path, root, step, tmp_path / "ran.log")
    write(root / "data" / "a.csv", "x,y\n1,2\n")
    write(root / "data" / "sub" / "b.csv", "x,y\n3,4\n" * 50)
    write(root / "params.yaml", "lr: 0.1\n")
    write(root / "gitml.yaml", yaml.safe_dump(_stages(step, extra), sort_keys=False))
    project.gitml("add", "data")
    remote.configure(root)
    return project


def commit(root: Path, message: str) -> None:
    git("add", "-A", cwd=root)
    git("commit", "-qm", message, cwd=root)


def outputs(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for name in OUTPUTS:
        path = root / name
        if path.is_dir():
            found.update({f"{name}/{k}": v for k, v in read_tree(path).items()})
        else:
            found[name] = path.read_bytes()
    return found


def test_fresh_clone_repro_pull_restores_everything_without_running(
    tmp_path: Path, remote: Remote
) -> None:
    dev = make_project(tmp_path, remote)
    dev.gitml("repro")
    assert dev.ran() == ["gen", "prepare", "train"]
    pushed = json.loads(dev.gitml("push", "--json").stdout)
    # prepare and train are eligible for the run-cache; gen (no deps) is not.
    assert pushed["runs"]["transferred"] == 2 and pushed["failed"] == []
    commit(dev.root, "pipeline")

    job = dev.clone("job1")
    done = dev.gitml("repro", "--pull", cwd=job)
    assert dev.ran() == ["gen", "prepare", "train"], done.stdout  # nothing ran in the job
    assert outputs(job) == outputs(dev.root)
    assert read_tree(job / "data") == read_tree(dev.root / "data")
    assert porcelain(job) == set()  # gitml.lock and .gitignore files unchanged
    status = json.loads(dev.gitml("status", "--json", cwd=job).stdout)
    assert status == {"outputs": [], "stages": []}
    verify_cache(job)
    on_remote = json.loads(dev.gitml("status", "--remote", "--json", cwd=job).stdout)
    assert on_remote["missing_objects"] == 0 and on_remote["runs_missing"] == 0

    # A committed parameter change: the next job runs `train` only, and pushes.
    write(dev.root / "params.yaml", "lr: 0.5\n")
    commit(dev.root, "lr 0.5")
    job2 = dev.clone("job2")
    dev.gitml("repro", "--pull", cwd=job2)
    assert dev.ran() == ["gen", "prepare", "train", "train"]
    again = json.loads(dev.gitml("push", "--json", cwd=job2).stdout)
    assert again["runs"]["transferred"] == 1  # job2 restored the others from gitml.lock
    assert len(remote.view.markers()) == 3

    # The job after it, on the same commit, restores `train` from that run-cache entry
    # (its gitml.lock still records lr 0.1: only the run-cache can answer).
    job3 = dev.clone("job3")
    restored = dev.gitml("repro", "--pull", cwd=job3)
    assert dev.ran() == ["gen", "prepare", "train", "train"]
    assert "Stage 'train' restored from the run-cache" in restored.stdout
    assert outputs(job3) == outputs(job2)
    assert (job3 / "gitml.lock").read_bytes() == (job2 / "gitml.lock").read_bytes()
    verify_cache(job3)


def test_push_no_run_cache_sends_no_markers(tmp_path: Path, remote: Remote) -> None:
    dev = make_project(tmp_path, remote)
    dev.gitml("repro")
    first = json.loads(dev.gitml("push", "--no-run-cache", "--json").stdout)
    assert "runs" not in first
    assert remote.view.markers() == []
    # Stage outs recorded in gitml.lock went up as outputs all the same.
    lock = yaml.safe_load((dev.root / "gitml.lock").read_text())
    outs = [o for s in lock["stages"].values() for o in s["outs"]]
    assert {o["oid"].removeprefix("blake3:") for o in outs} <= remote.view.objects()
    status = json.loads(dev.gitml("status", "--remote", "--json").stdout)
    assert status["missing_objects"] == 0 and status["runs_missing"] == 2
    assert "2 run-cache entries" in dev.gitml("status", "--remote").stdout

    second = json.loads(dev.gitml("push", "--json").stdout)
    assert second["runs"]["transferred"] == 2
    markers = remote.view.markers()
    assert len(markers) == 2
    # Every marker's entry is on the remote, and names the outs the lock file records.
    for key, entry_hex in markers:
        data = remote.view.read_object(entry_hex)
        header, body = data.split(b"\n", 1)
        assert header == b"gitml-run 1"
        entry = json.loads(body)
        assert entry["outs"] and all(o in outs for o in entry["outs"])
        assert len(key) == 64
    assert json.loads(dev.gitml("status", "--remote", "--json").stdout)["runs_missing"] == 0
    third = json.loads(dev.gitml("push", "--json").stdout)
    assert third["transferred"] == 0 and third["runs"]["transferred"] == 0
    assert third["runs"]["already_present"] == 2


def test_fetch_and_pull_bring_entries_and_stage_outs(tmp_path: Path, folder_remote: Remote) -> None:
    dev = make_project(tmp_path, folder_remote)
    dev.gitml("repro")
    dev.gitml("push")
    commit(dev.root, "pipeline")

    fetched_job = dev.clone("fetched")
    fetched = json.loads(dev.gitml("fetch", "--json", cwd=fetched_job).stdout)
    assert fetched["runs"]["transferred"] == 2 and fetched["failed"] == []
    markers = sorted(
        p.relative_to(fetched_job / ".gitml" / "cache").as_posix()
        for p in (fetched_job / ".gitml" / "cache" / "runs").rglob("*")
        if p.is_file()
    )
    assert [tuple(m.split("/")[1:]) for m in markers] == [
        (k[:2], k[2:], e) for k, e in folder_remote.view.markers()
    ]
    verify_cache(fetched_job)
    # With entries and stage outs in the cache, a plain repro needs no remote at all.
    run_gitml("remote", "remove", "origin", cwd=fetched_job)
    dev.gitml("checkout", "data", cwd=fetched_job)
    dev.gitml("repro", cwd=fetched_job)
    assert dev.ran() == ["gen", "prepare", "train"]
    assert outputs(fetched_job) == outputs(dev.root)

    pulled_job = dev.clone("pulled")
    pulled = dev.gitml("pull", cwd=pulled_job)
    assert "Fetched 2 run-cache entries" in pulled.stdout
    assert outputs(pulled_job) == outputs(dev.root)  # stage outs checked out from gitml.lock
    assert json.loads(dev.gitml("status", "--json", cwd=pulled_job).stdout)["stages"] == []

    skipped = dev.clone("no-runs")
    result = json.loads(dev.gitml("pull", "--no-run-cache", "--json", cwd=skipped).stdout)
    assert "runs" not in result
    assert not (skipped / ".gitml" / "cache" / "runs").exists()


def _two_runs(tmp_path: Path, remote: Remote) -> tuple[Project, str, str]:
    """A project whose run-cache holds train with lr 0.1 and 0.5; 0.5 is committed.
    Returns the project and the (key, entry hex) of the lr 0.1 train run on the remote."""
    dev = make_project(tmp_path, remote)
    dev.gitml("repro")
    dev.gitml("push")
    before = set(remote.view.markers())
    write(dev.root / "params.yaml", "lr: 0.5\n")
    dev.gitml("repro")
    dev.gitml("push")
    commit(dev.root, "lr 0.5")
    train_01 = [m for m in before if b"train" in _entry_bytes(remote.view, m[1])]
    assert len(train_01) == 1
    return dev, train_01[0][0], train_01[0][1]


def _entry_bytes(view: RemoteView, entry_hex: str) -> bytes:
    return view.read_object(entry_hex)


def test_corrupt_run_entry_on_remote_is_refused(tmp_path: Path, remote: Remote) -> None:
    dev, key, entry_hex = _two_runs(tmp_path, remote)
    good = _entry_bytes(remote.view, entry_hex)
    remote.view.overwrite_object(entry_hex, good.replace(b"0.1", b"0.9"))

    job = dev.clone("job")
    write(job / "params.yaml", "lr: 0.1\n")  # only the (corrupt) run-cache entry matches
    failed = dev.gitml("repro", "--pull", cwd=job, check=False)
    assert_user_error(failed, "train", entry_hex)
    assert dev.ran() == ["gen", "prepare", "train", "train"]  # train did not run either
    assert not (job / ".gitml" / "cache" / "runs" / key[:2] / key[2:]).exists()
    assert f"blake3:{entry_hex}" not in verify_cache(job)

    fetch_job = dev.clone("fetch-job")
    fetched = dev.gitml("fetch", cwd=fetch_job, check=False)
    assert_user_error(fetched, entry_hex, "corrupt")
    cache = verify_cache(fetch_job)  # every object that did enter hashes to its name
    assert f"blake3:{entry_hex}" not in cache
    runs = fetch_job / ".gitml" / "cache" / "runs"
    assert [p.name for p in runs.rglob("*") if p.is_file()] and not (
        runs / key[:2] / key[2:]
    ).exists()  # the other entries came; the corrupt one did not


def test_entry_filed_under_another_run_is_refused(tmp_path: Path, folder_remote: Remote) -> None:
    dev, key, entry_hex = _two_runs(tmp_path, folder_remote)
    # A marker claiming that the lr 0.1 entry answers for some other run.
    other = next(k for k, _ in folder_remote.view.markers() if k != key)
    folder_remote.view.put(f"runs/{other[:2]}/{other[2:]}/{entry_hex}", b"")
    job = dev.clone("job")
    fetched = dev.gitml("fetch", cwd=job, check=False)
    assert_user_error(fetched, entry_hex, "does not belong to run")
    marker = job / ".gitml" / "cache" / "runs" / other[:2] / other[2:] / entry_hex
    assert not marker.exists()
    assert (job / ".gitml" / "cache" / "runs" / key[:2] / key[2:] / entry_hex).exists()


def test_push_false_outs_stay_local(tmp_path: Path, folder_remote: Remote) -> None:
    def scratch(step: Path) -> dict[str, Any]:
        return {
            "scratch": {
                "cmd": step_cmd(step, "scratch", "--in", "data", "--out", "scratch.bin"),
                "deps": ["data"],
                "outs": [{"scratch.bin": {"push": False}}],
            }
        }

    dev = make_project(tmp_path, folder_remote, scratch)
    dev.gitml("repro")
    pushed = json.loads(dev.gitml("push", "--json").stdout)
    assert pushed["runs"]["transferred"] == 2 and pushed["runs"]["skipped"] == 1
    scratch = yaml.safe_load((dev.root / "gitml.lock").read_text())["stages"]["scratch"]
    assert scratch["outs"][0]["oid"].removeprefix("blake3:") not in folder_remote.view.objects()
    status = json.loads(dev.gitml("status", "--remote", "--json").stdout)
    assert status["missing_objects"] == 0 and status["runs_missing"] == 0
