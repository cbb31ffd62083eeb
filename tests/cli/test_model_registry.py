"""`gitml model ...` through the installed command on a real pipeline: tags in GTO's
format that git sees, bytes written and verified, refusals with one line and exit 1."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.cli.registry_support import loads, make_project, retrain, tags
from tests.conftest import git, run_gitml


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "p")


def message(root: Path, tag: str) -> str:
    return git("tag", "-l", "--format=%(contents)", tag, cwd=root).strip()


def test_register_promote_demote_make_gto_tags(project: Path) -> None:
    first = git("rev-parse", "HEAD", cwd=project).strip()
    run_gitml("model", "register", "churn", cwd=project)
    second = retrain(project, 0.85, 0.25)
    run_gitml("model", "register", "churn", "--bump", "minor", cwd=project)
    run_gitml("model", "promote", "churn", "v0.0.1", "--to", "prod", cwd=project)
    assert tags(project) == {
        "churn@v0.0.1": first, "churn@v0.1.0": second, "churn#prod#1": first,
    }  # fmt: skip
    assert message(project, "churn@v0.0.1").startswith("Registering artifact churn version v0.0.1")
    assert (
        message(project, "churn#prod#1") == "Assigning stage prod to artifact churn version v0.0.1"
    )
    run_gitml("model", "promote", "churn", "latest", "--to", "prod", cwd=project)
    made = tags(project)
    assert made["churn#prod!#2"] == first and made["churn#prod#3"] == second  # unassign, assign
    show = loads(run_gitml("model", "show", "--json", cwd=project).stdout)
    (model,) = show["models"]
    assert model["stages"] == {"prod": "v0.1.0"} and model["latest"] == "v0.1.0"
    run_gitml("model", "demote", "churn", "--from", "prod", cwd=project)
    assert "churn#prod!#4" in tags(project)
    show = loads(run_gitml("model", "show", "--json", cwd=project).stdout)
    assert show["models"][0]["stages"] == {"prod": None}


def test_show_lists_commit_path_content_id_and_metrics(project: Path) -> None:
    run_gitml("model", "register", "churn", "--version", "v1.0.0", cwd=project)
    retrain(project, 0.9, 0.2)
    run_gitml("model", "register", "churn", cwd=project)
    doc = loads(run_gitml("model", "show", "churn", "--json", cwd=project).stdout)
    newest, oldest = doc["models"][0]["versions"]
    assert (newest["version"], oldest["version"]) == ("v1.0.1", "v1.0.0")
    data = (project / "model.bin").read_bytes()
    import blake3

    assert newest["content_id"] == "blake3:" + blake3.blake3(data).hexdigest()
    assert newest["path"] == "model.bin" and newest["size"] == len(data)
    assert newest["metrics"]["metrics.json"]["auc"] == 0.9
    assert oldest["metrics"]["metrics.json"]["auc"] == 0.8
    assert newest["commit"] == git("rev-parse", "HEAD", cwd=project).strip()
    text = run_gitml("model", "show", cwd=project).stdout
    assert "v1.0.1" in text and "auc=0.9" in text


def test_get_writes_verified_bytes_without_checkout(project: Path, tmp_path: Path) -> None:
    old_bytes = (project / "model.bin").read_bytes()
    run_gitml("model", "register", "churn", cwd=project)
    run_gitml("model", "promote", "churn", "v0.0.1", "--to", "prod", cwd=project)
    retrain(project, 0.9, 0.2)
    run_gitml("model", "register", "churn", cwd=project)
    out = tmp_path / "deployed.bin"
    run_gitml("model", "get", "churn#prod", "-o", str(out), cwd=project)
    assert out.read_bytes() == old_bytes
    run_gitml("model", "get", "churn", "-o", str(tmp_path / "latest.bin"), cwd=project)
    assert (tmp_path / "latest.bin").read_bytes() == (project / "model.bin").read_bytes()
    # from another directory, through --repo and the remote once the cache is gone
    remote = tmp_path / "store"
    run_gitml("remote", "add", "-d", "store", str(remote), cwd=project)
    run_gitml("push", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "remote", cwd=project)
    shutil.rmtree(project / ".gitml" / "cache")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_gitml("model", "get", "churn@v0.0.1", "--repo", str(project), "-o", "m.bin", cwd=elsewhere)
    assert (
        hashlib.sha256((elsewhere / "m.bin").read_bytes()).digest()
        == hashlib.sha256(old_bytes).digest()
    )


def test_registry_references_are_revisions(project: Path) -> None:
    run_gitml("model", "register", "churn", cwd=project)
    run_gitml("model", "promote", "churn", "latest", "--to", "prod", cwd=project)
    retrain(project, 0.7, 0.4)
    run_gitml("model", "register", "churn", cwd=project)
    doc = loads(
        run_gitml("metrics", "diff", "churn#prod", "churn@latest", "--json", cwd=project).stdout
    )
    assert doc["metrics.json"]["auc"] == {"old": 0.8, "new": 0.7, "diff": pytest.approx(-0.1)}
    listed = loads(run_gitml("ls", "--rev", "churn@v0.0.1", "--json", cwd=project).stdout)
    assert listed  # resolves like a git revision
    empty = run_gitml("metrics", "diff", "churn#staging", cwd=project, check=False)
    assert empty.returncode == 1 and "no version in stage 'staging'" in empty.stderr


def test_promote_gate_against_version_in_stage(project: Path) -> None:
    run_gitml("model", "register", "churn", cwd=project)
    run_gitml("model", "promote", "churn", "v0.0.1", "--to", "prod", cwd=project)
    retrain(project, 0.7, 0.4)
    run_gitml("model", "register", "churn", cwd=project)
    before = tags(project)
    failed = run_gitml(
        "model", "promote", "churn", "latest", "--to", "prod", "--fail-if", "change(auc) < -0.05",
        "--json", cwd=project, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert tags(project) == before  # no tag on failure
    doc = loads(failed.stdout)
    assert doc["passed"] is False and doc["previous"] == "v0.0.1" and doc["version"] == "v0.0.2"
    assert "change(auc) < -0.05: metrics.json:auc old 0.8, new 0.7" in failed.stderr
    run_gitml(
        "model", "promote", "churn", "latest", "--to", "prod", "--fail-if", "loss > 1", cwd=project
    )
    assert loads(run_gitml("model", "show", "--json", cwd=project).stdout)["models"][0][
        "stages"
    ] == {"prod": "v0.0.2"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["register", "other", "--version", "1.0"], "not SemVer"),
        (["register", "other", "--path", "train.py"], "not a tracked output or stage out"),
        (["register", "bad name!"], "invalid model name"),
        (["promote", "churn", "v9.9.9", "--to", "prod"], "has no version v9.9.9"),
        (["promote", "ghost", "latest", "--to", "prod"], "no model named 'ghost'"),
        (["demote", "churn", "--from", "prod"], "already empty"),
        (["get", "churn#prod"], "stage 'prod' is empty"),
        (["show", "ghost", "--json"], "no model named 'ghost'"),
        (["show", "ghost"], "no model named 'ghost'"),
    ],
)
def test_refusals_are_one_line_exit_1(project: Path, args: list[str], needle: str) -> None:
    run_gitml("model", "register", "churn", "--version", "v0.1.0", cwd=project)
    before = tags(project)
    result = run_gitml("model", *args, cwd=project, check=False)
    assert result.returncode == 1, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert tags(project) == before


def test_existing_version_and_same_commit_refused(project: Path) -> None:
    run_gitml("model", "register", "churn", cwd=project)
    again = run_gitml("model", "register", "churn", cwd=project, check=False)
    assert again.returncode == 1 and "already registered at HEAD as v0.0.1" in again.stderr
    retrain(project, 0.9, 0.1)
    taken = run_gitml("model", "register", "churn", "--version", "v0.0.1", cwd=project, check=False)
    assert taken.returncode == 1 and "v0.0.1 is already registered" in taken.stderr


def test_model_bytes_missing_everywhere_is_refused(project: Path) -> None:
    shutil.rmtree(project / ".gitml" / "cache")
    result = run_gitml("model", "register", "churn", cwd=project, check=False)
    assert result.returncode == 1
    assert "not in the cache" in result.stderr and "churn@" not in "".join(tags(project))


def test_malformed_gto_like_tags_are_reported_others_shown(project: Path) -> None:
    run_gitml("model", "register", "churn", cwd=project)
    git("tag", "-a", "-m", "x", "churn@v1.2", cwd=project)
    git("tag", "-a", "-m", "x", "other#prod#x", cwd=project)
    git("tag", "churn#prod#7", cwd=project)  # lightweight
    git("tag", "-a", "-m", "release", "v2.0", cwd=project)  # an ordinary tag: not ours
    result = run_gitml("model", "show", "--json", cwd=project)
    doc = loads(result.stdout)
    assert [m["name"] for m in doc["models"]] == ["churn"]
    assert doc["models"][0]["stages"] == {}
    problems = "\n".join(doc["problems"])
    assert "churn@v1.2" in problems and "other#prod#x" in problems and "lightweight" in problems
    assert "v2.0" not in problems
    assert "warning: tag 'churn@v1.2'" in result.stderr


def test_get_from_git_url_reads_tags_without_clone(project: Path, tmp_path: Path) -> None:
    run_gitml("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "remote", cwd=project)
    run_gitml("model", "register", "churn", cwd=project)
    run_gitml("model", "promote", "churn", "latest", "--to", "prod", cwd=project)
    prod_bytes = (project / "model.bin").read_bytes()
    retrain(project, 0.9, 0.2)
    run_gitml("model", "register", "churn", cwd=project)
    run_gitml("push", cwd=project)
    git("checkout", "-q", "HEAD~1", cwd=project)
    run_gitml("push", cwd=project)
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("push", "-q", str(bare), "main", "--tags", cwd=project)
    elsewhere = tmp_path / "deploy"
    elsewhere.mkdir()
    url = bare.as_uri()
    run_gitml("model", "get", "churn#prod", "--repo", url, "-o", "prod.bin", cwd=elsewhere)
    assert (elsewhere / "prod.bin").read_bytes() == prod_bytes
    doc = loads(
        run_gitml(
            "model", "get", "churn", "--repo", url, "-o", "new.bin", "--json", cwd=elsewhere
        ).stdout
    )
    assert doc["version"] == "v0.0.2" and doc["bytes"] == len((elsewhere / "new.bin").read_bytes())
    missing = run_gitml("model", "get", "churn#qa", "--repo", url, cwd=elsewhere, check=False)
    assert missing.returncode == 1 and "stage 'qa' is empty" in missing.stderr
