"""`gitml migrate dvc` on small hand-made copies of DVC 3 repository layouts (DVC itself is
not installed): pipelines (root and a subfolder with `wdir: ../..`, `vars`, TOML params),
dvc.lock, .dvc pointers, DVC's cache and a DVC folder remote."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tests.cli.helpers import b3, verify_cache
from tests.conftest import git, make_repo, run_gitml, write

PREPARE = (
    "mkdir -p data/prepared && cp data/data.xml data/prepared/a.txt"
    " && echo ${prepare.seed} ${prepare.lr} > data/prepared/b.txt"
)
TRAIN = "cat data/prepared/a.txt > model.pkl && echo '{\"acc\":0.9}' > metrics.json"
DVC_YAML = f"""\
# The get-started pipeline, trimmed.
stages:
  prepare:  # split the raw data
    cmd: {PREPARE}
    deps:
      - data/data.xml
    params:
      - prepare.seed
      - prepare.lr
    outs:
      - data/prepared
  train:
    cmd: {TRAIN}
    deps:
      - data/prepared
    outs:
      - model.pkl
    metrics:
      - metrics.json:
          cache: false
"""
PARAMS = """\
base: &base {seed: 1, lr: 0.5}
prepare:
  <<: *base
  seed: 20170428
  lr: 1e-3
"""
SUB_DVC_YAML = """\
vars:
  - config.toml
stages:
  evaluate:
    wdir: ../..
    cmd: echo ${train.epochs} > exps/e1/eval.txt
    deps:
      - model.pkl
    params:
      - exps/e1/config.toml:
          - train.epochs
    outs:
      - exps/e1/eval.txt
"""
DATA = b"<xml>raw data</xml>\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _cache_object(root: Path, data: bytes, suffix: str = "") -> str:
    digest = md5(data) + suffix
    path = root / "files" / "md5" / digest[:2] / digest[2:]
    write(path, data)
    return digest


def _file(path: str, data: bytes) -> dict[str, object]:
    return {"path": path, "hash": "md5", "md5": md5(data), "size": len(data)}


def dvc_repo(tmp_path: Path) -> Path:
    """A DVC project as `dvc repro` and `dvc push` leave it: everything up to date."""
    repo = make_repo(tmp_path / "repo")
    cache = repo / ".dvc" / "cache"
    store = tmp_path / "dvcstore"
    write(repo / ".dvc/config", "[core]\n    remote = storage\n['remote \"storage\"']\n"
          "    url = ../../dvcstore\n")  # fmt: skip
    write(repo / ".dvc/.gitignore", "/config.local\n/tmp\n/cache\n")
    write(repo / ".dvcignore", "# Add patterns of files dvc should ignore\n")
    write(repo / "params.yaml", PARAMS)
    write(repo / "dvc.yaml", DVC_YAML)
    write(repo / "exps/e1/dvc.yaml", SUB_DVC_YAML)
    write(repo / "exps/e1/config.toml", "[train]\nepochs = 7\n")
    # data.xml, tracked by a .dvc file.
    write(repo / "data/data.xml", DATA)
    write(repo / "data/.gitignore", "/data.xml\n/prepared\n")
    write(
        repo / "data/data.xml.dvc",
        f"outs:\n- md5: {md5(DATA)}\n  size: {len(DATA)}\n  hash: md5\n  path: data.xml\n",
    )
    # What the stages made.
    a, b = DATA, b"20170428 0.001\n"
    write(repo / "data/prepared/a.txt", a)
    write(repo / "data/prepared/b.txt", b)
    write(repo / "model.pkl", DATA)
    write(repo / "metrics.json", '{"acc":0.9}\n')
    write(repo / ".gitignore", "/model.pkl\n")
    write(repo / "exps/e1/eval.txt", "7\n")
    write(repo / "exps/e1/.gitignore", "/eval.txt\n")
    listing = json.dumps(
        [{"md5": md5(a), "relpath": "a.txt"}, {"md5": md5(b), "relpath": "b.txt"}],
        sort_keys=True,
    ).encode()
    for root in (cache, store):
        for data in (DATA, a, b, b'{"acc":0.9}\n'):
            _cache_object(root, data)
        prepared = _cache_object(root, listing, ".dir")
    dir_entry = {"path": "data/prepared", "hash": "md5", "md5": prepared, "size": 35, "nfiles": 2}
    lock = {
        "schema": "2.0",
        "stages": {
            "prepare": {
                "cmd": PREPARE.replace("${prepare.seed} ${prepare.lr}", "20170428 0.001"),
                "deps": [_file("data/data.xml", DATA)],
                "params": {"params.yaml": {"prepare.seed": 20170428, "prepare.lr": 0.001}},
                "outs": [dir_entry],
            },
            "train": {
                "cmd": TRAIN,
                "deps": [dir_entry],
                "outs": [_file("metrics.json", b'{"acc":0.9}\n'), _file("model.pkl", DATA)],
            },
        },
    }
    write(repo / "dvc.lock", json.dumps(lock, indent=1))  # JSON is YAML
    sub_lock = {
        "schema": "2.0",
        "stages": {
            "evaluate": {
                "cmd": "echo 7 > exps/e1/eval.txt",
                "deps": [_file("model.pkl", DATA)],
                "params": {"exps/e1/config.toml": {"train.epochs": 7}},
                "outs": [_file("exps/e1/eval.txt", b"7\n")],
            }
        },
    }
    _cache_object(cache, b"7\n")
    _cache_object(store, b"7\n")
    write(repo / "exps/e1/dvc.lock", json.dumps(sub_lock))
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "a DVC project", cwd=repo)
    return repo


def test_migrated_dvc_project_is_clean_and_up_to_date(tmp_path: Path) -> None:
    repo = dvc_repo(tmp_path)
    init = run_gitml("init", cwd=repo)
    assert "gitml migrate dvc" in init.stdout
    dry = run_gitml("migrate", "dvc", "--dry", cwd=repo)
    assert "gitml.yaml <- dvc.yaml" in dry.stdout
    assert not (repo / "gitml.yaml").exists() and not (repo / "gitml.lock").exists()
    result = run_gitml("migrate", "dvc", cwd=repo)
    assert "data/data.xml.gitml <- data/data.xml.dvc" in result.stdout
    assert "exps/e1/gitml.lock <- exps/e1/dvc.lock (1 of 1 stages recorded)" in result.stdout
    assert (repo / "gitml.yaml").read_text() == DVC_YAML  # comments and layout kept
    assert (repo / "exps/e1/gitml.yaml").read_text() == SUB_DVC_YAML
    assert f"oid: {b3(DATA)}" in (repo / "data/data.xml.gitml").read_text()
    assert b3(DATA) in verify_cache(repo)
    assert run_gitml("status", cwd=repo).stdout.strip() == "Everything is up to date."
    plan = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)["stages"]
    assert {s["name"]: s["outcome"] for s in plan} == {
        "prepare": "unchanged",
        "train": "unchanged",
        "exps/e1/gitml.yaml:evaluate": "unchanged",
    }
    remotes = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    assert remotes["default"] == "storage"
    # A param change makes exactly what DVC would rerun stale.
    write(repo / "exps/e1/config.toml", "[train]\nepochs = 8\n")
    plan = json.loads(run_gitml("repro", "--dry", "--json", cwd=repo).stdout)["stages"]
    assert [s["name"] for s in plan if s["outcome"] != "unchanged"] == [
        "exps/e1/gitml.yaml:evaluate"
    ]
    # Stage outputs come back from gitml's cache.
    shutil.rmtree(repo / "data/prepared")
    run_gitml("checkout", cwd=repo)
    assert (repo / "data/prepared/b.txt").read_bytes() == b"20170428 0.001\n"


def test_fetch_reads_data_only_on_the_dvc_remote(tmp_path: Path) -> None:
    repo = dvc_repo(tmp_path)
    shutil.rmtree(repo / ".dvc/cache")
    (repo / "data/data.xml").unlink()
    plain = run_gitml("migrate", "dvc", cwd=repo)
    assert "data/data.xml.gitml" not in plain.stdout
    assert "no data for data/data.xml" in plain.stderr
    fetched = run_gitml("migrate", "dvc", "--fetch", cwd=repo)
    assert "data/data.xml.gitml <- data/data.xml.dvc" in fetched.stdout
    run_gitml("checkout", "data/data.xml", cwd=repo)
    assert (repo / "data/data.xml").read_bytes() == DATA


def test_fetch_refuses_a_corrupt_dvc_object(tmp_path: Path) -> None:
    repo = dvc_repo(tmp_path)
    shutil.rmtree(repo / ".dvc/cache")
    (repo / "data/data.xml").unlink()
    digest = md5(DATA)
    write(tmp_path / "dvcstore/files/md5" / digest[:2] / digest[2:], b"<xml>flipped</xml>\n")
    result = run_gitml("migrate", "dvc", "--fetch", cwd=repo, check=False)
    assert result.returncode == 1
    assert "does not match its md5 (corrupt)" in result.stderr
    assert not (repo / "data/data.xml.gitml").exists()
    assert verify_cache(repo) == {}
