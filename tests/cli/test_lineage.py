"""`gitml lineage`: trace an output to its stages, code, params and added data; find
where some bytes were tracked; verify everything that made an output is stored."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from tests.cli.helpers import b3, object_path
from tests.conftest import git, run_gitml, write
from tests.ml_repo import build, retrain


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("lineage") / "repo")
    retrain(root, 0.2)
    return root


def _by_path(node: dict[str, object]) -> dict[str, dict[str, object]]:
    produced = node.get("produced_by")
    assert isinstance(produced, dict)
    return {d["path"]: d for d in produced["deps"]}


def test_lineage_json_traces_the_model_to_code_params_and_added_data(project: Path) -> None:
    doc = json.loads(run_gitml("lineage", "model.bin", "--json", cwd=project).stdout)
    model = doc["lineage"]
    assert doc["rev"] == "workspace"
    assert model["kind"] == "stage_out"
    assert model["oid"] == b3((project / "model.bin").read_bytes())
    produced = model["produced_by"]
    assert produced["stage"] == "train" and produced["cmd"] == "python train.py"
    assert produced["params"] == {"params.yaml": {"train.epochs": 5, "train.lr": 0.2}}
    run = produced["run"]  # from the run-cache entry `repro` saved
    assert run["host"] == socket.gethostname()
    assert run["head"] == git("rev-parse", "HEAD~1", cwd=project).strip()
    assert isinstance(run["duration_s"], float) and run["duration_s"] >= 0
    deps = _by_path(model)
    assert sorted(deps) == ["data/clean.csv", "data/images", "train.py"]
    code = deps["train.py"]
    assert code["kind"] == "git"
    assert code["git_blob"] == git("rev-parse", "HEAD:train.py", cwd=project).strip()
    assert code["oid"] == b3((project / "train.py").read_bytes())
    images = deps["data/images"]
    assert images["kind"] == "added" and images["nfiles"] == 2
    clean = deps["data/clean.csv"]
    assert clean["produced_by"]["stage"] == "prep"
    raw = _by_path(clean)["data/raw.csv"]
    assert raw["kind"] == "added"
    assert raw["oid"] == b3((project / "data" / "raw.csv").read_bytes())
    last = git("log", "-1", "--format=%H %aI", "--", "data/raw.csv.gitml", cwd=project).split()
    assert raw["source"]["commit"] == last[0]
    assert raw["source"]["date"] == last[1]
    assert raw["source"]["subject"] == "raw data"
    assert raw["source"]["author"] == "Test <test@example.com>"


def test_lineage_at_a_revision_shows_that_run(project: Path) -> None:
    doc = json.loads(
        run_gitml("lineage", "model.bin", "--rev", "HEAD~1", "--json", cwd=project).stdout
    )
    old_model = git("show", "HEAD~1:gitml.lock", cwd=project)
    assert doc["lineage"]["oid"] in old_model
    assert doc["lineage"]["oid"] != b3((project / "model.bin").read_bytes())
    assert doc["lineage"]["produced_by"]["params"]["params.yaml"]["train.lr"] == 0.1
    assert doc["rev"] == "HEAD~1"


def test_lineage_text_and_mermaid(project: Path) -> None:
    out = run_gitml("lineage", "model.bin", cwd=project).stdout
    assert "stage 'train': python train.py" in out
    assert "train.lr=0.2" in out
    assert "data/raw.csv" in out and "[gitml add]" in out
    graph = run_gitml("lineage", "model.bin", "--mermaid", cwd=project).stdout
    lines = graph.splitlines()
    assert lines[0] == "graph LR"
    stages = [line for line in lines if "{{" in line]
    assert len(stages) == 2  # train and prep, each once
    edges = [line for line in lines if "-->" in line]
    # raw, prep.py -> prep -> clean; clean, images, train.py -> train -> model
    assert len(edges) == 7


def test_lineage_of_an_untracked_path_is_one_line_exit_1(project: Path) -> None:
    result = run_gitml("lineage", "train.py", cwd=project, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gitml: error: train.py is not tracked by gitml (no pointer file and no stage out)"
    ]
    assert result.stdout == ""
    missing = run_gitml("lineage", "nope.bin", cwd=project, check=False)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_find_names_the_commit_and_path_of_a_model_copy(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "downloaded-model.bin"
    old = git("show", "HEAD~1:gitml.lock", cwd=project)
    shutil.copy(project / "model.bin", copy)
    doc = json.loads(run_gitml("lineage", "--find", str(copy), "--json", cwd=project).stdout)
    assert doc["found"] is True
    head = git("rev-parse", "HEAD", cwd=project).strip()
    assert [(m["commit"], m["path"], m["kind"], m["stage"]) for m in doc["matches"]] == [
        (head, "model.bin", "stage_out", "train")
    ]
    assert doc["refs"] == {"main": ["model.bin"]}
    assert doc["workspace"] == ["model.bin"]
    assert "model.bin" in old  # the earlier run's model is a different version
    text = run_gitml("lineage", "--find", str(copy), cwd=project).stdout
    assert head[:12] in text and "stage 'train' out" in text


def test_find_a_file_inside_a_tracked_directory(project: Path, tmp_path: Path) -> None:
    copy = write(tmp_path / "a.png", (project / "data" / "images" / "a.png").read_bytes())
    doc = json.loads(run_gitml("lineage", "--find", str(copy), "--json", cwd=project).stdout)
    first = git("rev-list", "--max-parents=0", "HEAD", cwd=project).strip()
    assert [(m["commit"], m["path"], m["inside"]) for m in doc["matches"]] == [
        (first, "data/images/a.png", "data/images")
    ]


def test_find_unknown_bytes_and_directories_fail_with_one_line(
    project: Path, tmp_path: Path
) -> None:
    stranger = write(tmp_path / "other.bin", b"never tracked anywhere\n")
    result = run_gitml("lineage", "--find", str(stranger), cwd=project, check=False)
    assert result.returncode == 1
    assert (
        len(result.stderr.strip().splitlines()) == 1 and "never a tracked output" in result.stderr
    )
    as_json = run_gitml("lineage", "--find", str(stranger), "--json", cwd=project, check=False)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["found"] is False
    folder = run_gitml("lineage", "--find", str(tmp_path), cwd=project, check=False)
    assert folder.returncode == 1
    assert folder.stderr.strip().splitlines() == [
        f"gitml: error: {tmp_path}: is a directory; --find takes one file"
    ]


def test_verify_passes_then_names_what_is_missing_then_finds_it_on_the_remote(
    tmp_path: Path,
) -> None:
    root = build(tmp_path / "repo")
    done = run_gitml("lineage", "--verify", "model.bin", "--json", cwd=root)
    report = json.loads(done.stdout)
    # model, clean, raw, images manifest + 2 files = 6 in the cache; train.py, prep.py in git
    assert report["complete"] is True
    assert (report["in_cache"], report["in_git"], report["checked"]) == (6, 2, 8)
    raw_oid = b3((root / "data" / "raw.csv").read_bytes())
    remote = tmp_path / "remote"
    run_gitml("remote", "add", "-d", "store", str(remote), cwd=root)
    run_gitml("push", cwd=root)
    object_path(root, raw_oid).unlink()
    pushed = json.loads(run_gitml("lineage", "--verify", "model.bin", "--json", cwd=root).stdout)
    assert pushed["complete"] is True and pushed["on_remote"] == 1
    run_gitml("remote", "remove", "store", cwd=root)
    broken = run_gitml("lineage", "--verify", "model.bin", cwd=root, check=False)
    assert broken.returncode == 1
    assert broken.stderr.strip().splitlines() == [
        f"gitml: missing: data/raw.csv ({raw_oid}): not in the cache (remote: no remote configured)"
    ]


def test_pipelines_in_subfolders(tmp_path: Path) -> None:
    from tests.conftest import make_repo

    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    write(root / "sub" / "in.csv", "a,b\n1,2\n")
    run_gitml("add", "sub/in.csv", cwd=root)
    write(
        root / "sub" / "gitml.yaml",
        "stages:\n  make:\n    cmd: python -c \"open('out.csv','w').write('made\\\\n')\"\n"
        "    deps: [in.csv]\n    outs: [out.csv]\n",
    )
    run_gitml("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "sub pipeline", cwd=root)
    doc = json.loads(run_gitml("lineage", "sub/out.csv", "--json", cwd=root).stdout)
    produced = doc["lineage"]["produced_by"]
    assert produced["stage"] == "sub/gitml.yaml:make"
    assert [(d["path"], d["kind"]) for d in produced["deps"]] == [("sub/in.csv", "added")]
    found = json.loads(
        run_gitml("lineage", "--find", str(root / "sub" / "out.csv"), "--json", cwd=root).stdout
    )
    assert [(m["path"], m["stage"]) for m in found["matches"]] == [("sub/out.csv", "make")]
    assert found["workspace"] == ["sub/out.csv"]
