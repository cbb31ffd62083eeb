"""`gitml exp`: experiments recorded as git commits, through the installed command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.exp_support import log_env, make_pipeline, ran
from tests.cli.helpers import assert_user_error, object_path, read_tree, verify_cache
from tests.conftest import git, run_gitml


@pytest.fixture
def pipe(repo: Path) -> Path:
    make_pipeline(repo)
    log = repo.parent / "stage-runs.log"
    log.unlink()
    return repo


def gm(root: Path, *args: str, check: bool = True) -> Any:
    return run_gitml(*args, cwd=root, check=check, env=log_env(root))


def show(root: Path, *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(gm(root, "exp", "show", "--json", *args).stdout)
    return doc


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in doc["experiments"]}


def test_run_records_a_commit_on_the_baseline_and_moves_nothing_in_git(pipe: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=pipe).strip()
    branch = git("symbolic-ref", "HEAD", cwd=pipe).strip()
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "fast")
    assert git("rev-parse", "HEAD", cwd=pipe).strip() == head
    assert git("symbolic-ref", "HEAD", cwd=pipe).strip() == branch
    assert git("diff", "--cached", "--name-only", cwd=pipe) == ""  # the index is untouched
    assert ran(pipe) == ["train"]  # prep was up to date
    # The workspace changed like DVC's exp run: params and outputs.
    params = yaml.safe_load((pipe / "params.yaml").read_text())
    assert params["train"]["lr"] == 0.1
    assert "# learning rate" in (pipe / "params.yaml").read_text()
    assert (pipe / "model.bin").read_text().startswith("model lr=0.1 ")

    ref = f"refs/gitml/exps/{head}/fast"
    commit = git("rev-parse", ref, cwd=pipe).strip()
    assert git("rev-parse", f"{commit}^", cwd=pipe).strip() == head
    assert yaml.safe_load(git("show", f"{commit}:params.yaml", cwd=pipe))["train"]["lr"] == 0.1
    assert json.loads(git("show", f"{commit}:metrics.json", cwd=pipe))["acc"] == 1.0
    assert git("show", f"{commit}:gitml.lock", cwd=pipe) == (pipe / "gitml.lock").read_text()

    doc = show(pipe)
    assert set(doc) == {"baseline", "experiments"}
    base, [exp] = doc["baseline"], doc["experiments"]
    keys = {"name", "rev", "state", "created", "duration_s", "params", "metrics", "meta"}
    assert keys <= set(base) and keys <= set(exp)
    assert base["rev"] == head and base["metrics"]["metrics.json"]["acc"] == 0.91
    assert base["params"]["params.yaml"]["train.lr"] == 0.01
    assert (exp["name"], exp["rev"], exp["state"]) == ("fast", commit, "success")
    assert exp["params"]["params.yaml"] == {"prep.n": 1, "train.lr": 0.1, "train.epochs": 2}
    assert exp["metrics"]["metrics.json"] == {"acc": 1.0, "size": 4}
    assert exp["duration_s"] > 0
    meta = exp["meta"]
    assert {"host", "gitml_version", "head", "dirty", "stages"} <= set(meta)
    assert meta["head"] == head and meta["dirty"] is False and meta["host"]
    assert meta["stages"]["train"]["duration_s"] > 0


def test_experiment_names_are_revisions(pipe: Path) -> None:
    from gitml.errors import GitmlError
    from gitml.revisions import resolve

    gm(pipe, "exp", "run", "-S", "train.epochs=5", "-n", "five")
    out = json.loads(gm(pipe, "params", "diff", "HEAD", "five", "--json").stdout)
    assert out["params.yaml"]["train.epochs"] == {"old": 2, "new": 5, "diff": 3}
    out = json.loads(gm(pipe, "metrics", "diff", "HEAD", "five", "--json").stdout)
    assert out == {}  # epochs do not change the metrics, and both sides were read
    git("checkout", "-q", "params.yaml", cwd=pipe)
    out = json.loads(gm(pipe, "metrics", "show", "--json", "--rev", "five").stdout)
    assert out["five"]["metrics.json"]["acc"] == 0.91
    assert resolve(pipe, "five") == by_name(show(pipe))["five"]["rev"]
    assert resolve(pipe, "main") == git("rev-parse", "main", cwd=pipe).strip()
    with pytest.raises(GitmlError):
        resolve(pipe, "six")


def test_grid_in_the_workspace_records_every_combination(pipe: Path) -> None:
    out = gm(pipe, "exp", "run", "-S", "train.lr=0.2,0.3", "-S", "train.epochs=3,4", "--json")
    runs = json.loads(out.stdout)["experiments"]
    assert len(runs) == 4 and all(r["state"] == "success" for r in runs)
    doc = show(pipe)
    combos = {
        (e["params"]["params.yaml"]["train.lr"], e["params"]["params.yaml"]["train.epochs"])
        for e in doc["experiments"]
    }
    assert combos == {(0.2, 3), (0.2, 4), (0.3, 3), (0.3, 4)}
    assert len({e["name"] for e in doc["experiments"]}) == 4  # generated, unique


def test_bad_overrides_change_nothing(pipe: Path) -> None:
    before = read_tree(pipe)
    result = gm(pipe, "exp", "run", "-S", "train.lrr=1", check=False)
    assert_user_error(result, "train.lrr")
    assert "+train.lrr" in result.stderr
    result = gm(pipe, "exp", "run", "-S", "train.lr", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "malformed -S" in result.stderr
    assert_user_error(gm(pipe, "exp", "run", "nosuch", check=False), "nosuch")
    result = gm(pipe, "exp", "run", "-n", "a/b", check=False)
    assert result.returncode == 2 and "invalid experiment name" in result.stderr
    assert read_tree(pipe) == before
    assert git("for-each-ref", "refs/gitml", cwd=pipe) == ""
    gm(pipe, "exp", "run", "-S", "+train.dropout=0.5", "-n", "added")
    assert by_name(show(pipe))["added"]["params"]["params.yaml"]["train.dropout"] == 0.5


def test_a_used_name_is_refused(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.2", "-n", "one")
    params = (pipe / "params.yaml").read_bytes()
    result = gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "one", check=False)
    assert_user_error(result, "'one' already exists")
    assert (pipe / "params.yaml").read_bytes() == params


def test_failed_experiment_is_recorded_and_the_grid_goes_on(pipe: Path) -> None:
    result = gm(pipe, "exp", "run", "-S", "train.lr=666,0.2", check=False)
    assert_user_error(result, "failed")
    doc = show(pipe)
    states = {e["params"]["params.yaml"]["train.lr"]: e for e in doc["experiments"]}
    assert states[666]["state"] == "failed"
    assert "loss is nan: diverged" in states[666]["stderr_tail"]
    assert "exited with code 3" in states[666]["error"]
    assert states[0.2]["state"] == "success"


def test_show_formats_and_sorting(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.5", "-n", "far")
    gm(pipe, "exp", "run", "-S", "train.lr=0.12", "-n", "near")
    doc = show(pipe, "--sort-by", "acc", "--desc")
    assert [e["name"] for e in doc["experiments"]] == ["near", "far"]
    doc = show(pipe, "--sort-by", "params.yaml:train.lr")
    assert [e["name"] for e in doc["experiments"]] == ["near", "far"]
    csv_lines = gm(pipe, "exp", "show", "--csv").stdout.splitlines()
    assert csv_lines[0].split(",")[:4] == ["Experiment", "State", "Created", "Duration"]
    assert {line.split(",")[0] for line in csv_lines[1:]} == {"main", "far", "near"}
    md = gm(pipe, "exp", "show", "--md").stdout
    assert "| train.lr |" in md.splitlines()[0] + " |" or "train.lr" in md.splitlines()[0]
    assert "epochs" not in md  # the table shows only params that differ between rows
    table = gm(pipe, "exp", "show").stdout
    assert "near" in table and "far" in table
    result = gm(pipe, "exp", "show", "--sort-by", "nope", check=False)
    assert result.returncode == 2


def test_show_is_per_baseline_and_all_with_A(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.2", "-n", "old")
    git("commit", "-q", "-am", "take old", cwd=pipe)
    gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "new")
    assert [e["name"] for e in show(pipe)["experiments"]] == ["new"]
    assert {e["name"] for e in show(pipe, "-A")["experiments"]} == {"old", "new"}


def test_diff_between_experiment_and_its_baseline(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "a")
    gm(pipe, "exp", "run", "-S", "train.lr=0.2", "-n", "b")
    doc = json.loads(gm(pipe, "exp", "diff", "a", "--json").stdout)
    assert doc["params"]["params.yaml"]["train.lr"]["new"] == 0.1
    assert doc["params"]["params.yaml"]["train.lr"]["old"] == 0.01
    assert doc["metrics"]["metrics.json"]["acc"] == {"old": 0.91, "new": 1.0, "diff": 0.09}
    doc = json.loads(gm(pipe, "exp", "diff", "b", "a", "--json").stdout)
    assert doc["params"]["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.2, "diff": 0.1}
    assert "train.lr" in gm(pipe, "exp", "diff", "a").stdout


def test_apply_restores_params_lock_and_outputs_and_noop_repro_keeps_the_lock(
    pipe: Path,
) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "keep")
    gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "other")
    gm(pipe, "exp", "apply", "keep")
    assert yaml.safe_load((pipe / "params.yaml").read_text())["train"]["lr"] == 0.1
    assert (pipe / "model.bin").read_text().startswith("model lr=0.1 ")
    assert json.loads((pipe / "metrics.json").read_text())["acc"] == 1.0
    commit = by_name(show(pipe))["keep"]["rev"]
    assert (pipe / "gitml.lock").read_text() == git("show", f"{commit}:gitml.lock", cwd=pipe)
    lock = (pipe / "gitml.lock").read_bytes()
    before = ran(pipe)
    out = gm(pipe, "repro")
    assert "Everything is up to date" in out.stdout
    assert (pipe / "gitml.lock").read_bytes() == lock
    assert ran(pipe) == before
    assert git("rev-parse", "HEAD", cwd=pipe) == git("rev-parse", "main", cwd=pipe)


def test_apply_refuses_to_lose_unsaved_work(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "keep")
    git("checkout", "-q", "params.yaml", cwd=pipe)
    (pipe / "params.yaml").write_text(
        (pipe / "params.yaml").read_text().replace("epochs: 2", "epochs: 9")
    )
    edited = (pipe / "params.yaml").read_bytes()
    result = gm(pipe, "exp", "apply", "keep", check=False)
    assert_user_error(result, "params.yaml", "no commit and no experiment")
    assert (pipe / "params.yaml").read_bytes() == edited
    gm(pipe, "exp", "apply", "keep", "--force")
    assert yaml.safe_load((pipe / "params.yaml").read_text())["train"] == {"lr": 0.1, "epochs": 2}
    # Work that another experiment holds is not "lost": applying over it needs no --force.
    gm(pipe, "exp", "run", "-S", "train.lr=0.3", "-n", "other")
    gm(pipe, "exp", "apply", "keep")
    # An output edited by hand (in no cache) is refused too, and nothing is half-applied.
    gm(pipe, "exp", "apply", "other")
    (pipe / "model.bin").write_text("hand-tuned\n")
    params, lock = (pipe / "params.yaml").read_bytes(), (pipe / "gitml.lock").read_bytes()
    assert_user_error(gm(pipe, "exp", "apply", "keep", check=False), "model.bin")
    assert (pipe / "params.yaml").read_bytes() == params
    assert (pipe / "gitml.lock").read_bytes() == lock
    assert (pipe / "model.bin").read_text() == "hand-tuned\n"


def test_branch_and_rm(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "best")
    gm(pipe, "exp", "run", "-S", "train.lr=0.4", "-n", "worse")
    gm(pipe, "exp", "branch", "best", "exp-best")
    tip = git("rev-parse", "exp-best", cwd=pipe).strip()
    assert tip == by_name(show(pipe))["best"]["rev"]
    assert yaml.safe_load(git("show", "exp-best:params.yaml", cwd=pipe))["train"]["lr"] == 0.1
    assert_user_error(gm(pipe, "exp", "branch", "best", "exp-best", check=False), "exists")
    gm(pipe, "exp", "rm", "worse")
    assert set(by_name(show(pipe))) == {"best"}
    assert_user_error(gm(pipe, "exp", "rm", "worse", check=False), "no experiment named")
    gm(pipe, "exp", "rm", "--all")
    assert show(pipe)["experiments"] == []
    assert gm(pipe, "exp", "rm", check=False).returncode == 2


def test_gc_keeps_what_experiments_reference(pipe: Path) -> None:
    gm(pipe, "exp", "run", "-S", "train.lr=0.1", "-n", "kept")
    git("checkout", "-q", "params.yaml", "gitml.lock", cwd=pipe)
    gm(pipe, "checkout")
    shutil.rmtree(pipe / ".gitml" / "cache" / "runs")  # only the experiment ref holds it now
    model = next(p for p in verify_cache(pipe).values() if b"lr=0.1 " in p.read_bytes())
    gm(pipe, "gc", "-f")
    assert model.exists()
    gm(pipe, "exp", "apply", "kept")
    assert (pipe / "model.bin").read_text().startswith("model lr=0.1 ")


def _run_entries(root: Path) -> list[dict[str, Any]]:
    """Every run-cache entry in the cache, parsed (as a reader of the format would)."""
    entries = []
    runs = root / ".gitml" / "cache" / "runs"
    for marker in runs.glob("??/*/*"):
        data = object_path(root, "blake3:" + marker.name).read_bytes()
        assert data.startswith(b"gitml-run 1\n")
        entries.append(json.loads(data.split(b"\n", 1)[1]))
    return entries


def _epochs(entry: dict[str, Any]) -> Any:
    return entry["params"]["params.yaml"].get("train", {}).get("epochs")


def test_repro_json_carries_run_metadata_kept_in_the_run_cache_not_the_lock(
    tmp_path: Path, pipe: Path
) -> None:
    head = git("rev-parse", "HEAD", cwd=pipe).strip()
    lock = (pipe / "gitml.lock").read_bytes()
    out = json.loads(gm(pipe, "repro", "--json").stdout)  # nothing to do
    assert [s["outcome"] for s in out["stages"]] == ["unchanged", "unchanged"]
    assert (pipe / "gitml.lock").read_bytes() == lock  # byte-identical after a no-op repro
    assert out["meta"]["head"] == head and out["meta"]["dirty"] is False

    params = pipe / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 2", "epochs: 3"))
    out = json.loads(gm(pipe, "repro", "--json").stdout)
    meta = out["meta"]
    assert {"started", "duration_s", "host", "gitml_version", "head", "dirty", "stages"} <= set(
        meta
    )
    assert meta["dirty"] is True and meta["stages"]["train"]["duration_s"] > 0
    assert out["params"]["params.yaml"]["train.epochs"] == 3
    assert out["metrics"]["metrics.json"]["acc"] == 0.91
    lock = (pipe / "gitml.lock").read_bytes()
    assert b"duration" not in lock and b"host" not in lock
    gm(pipe, "repro")
    assert (pipe / "gitml.lock").read_bytes() == lock

    trained = [e for e in _run_entries(pipe) if _epochs(e) == 3]
    assert len(trained) == 1 and trained[0]["meta"]["head"] == head
    assert trained[0]["meta"]["duration_s"] > 0

    # The metadata travels with the run: push, then fetch into a clone.
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=pipe)
    git("commit", "-q", "-am", "epochs 3", cwd=pipe)
    gm(pipe, "push")
    clone = tmp_path / "clone"
    git("clone", "-q", str(pipe), str(clone), cwd=tmp_path)
    run_gitml("fetch", cwd=clone)  # the remote's absolute path came with .gitml/config
    fetched = [e for e in _run_entries(clone) if _epochs(e) == 3]
    assert fetched == trained
