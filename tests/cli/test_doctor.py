"""`gitml doctor`, shell completion and `push --rev` through the installed command."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitml.hashing import hash_file
from tests.conftest import git, make_repo, run_gitml, write
from tests.remote_layout import stored
from tests.s3_endpoint import S3Endpoint, free_port

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung endpoint)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def _repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    write(root / "data.bin", b"doctor data\n")
    run_gitml("add", "data.bin", cwd=root)
    return root


def test_doctor_reports_versions_cache_links_remotes_and_hooks(
    tmp_path: Path, s3_endpoint: S3Endpoint, silent_port: int
) -> None:
    root = _repo(tmp_path)
    run_gitml("remote", "add", "-d", "folder", str(tmp_path / "store"), cwd=root)
    run_gitml("push", cwd=root)
    bucket = s3_endpoint.new_bucket()
    run_gitml("remote", "add", "s3", f"s3://{bucket}/x", cwd=root)
    run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=root)
    run_gitml("remote", "add", "down", "s3://bucket/x", cwd=root)
    run_gitml(
        "remote", "modify", "down", "endpoint_url", f"http://127.0.0.1:{free_port()}", cwd=root
    )
    run_gitml("remote", "add", "hung", "s3://bucket/x", cwd=root)
    run_gitml(
        "remote", "modify", "hung", "endpoint_url", f"http://127.0.0.1:{silent_port}", cwd=root
    )

    # A generous deadline: on a loaded 2-core machine one S3 HEAD has taken 10 s.
    done = run_gitml("doctor", "--json", "--timeout", "20", cwd=root, env=S3_ENV, check=False)
    assert done.returncode == 1  # two remotes are not usable
    assert done.stderr.strip() == "gitml: error: 2 problem(s) found"
    report = json.loads(done.stdout)
    assert report["versions"]["gitml"] == run_gitml("--version", cwd=root).stdout.split()[1]
    assert report["versions"]["dependencies"]["typer"]
    assert report["versions"]["git"].startswith("git version")
    assert report["workspace"] == str(root)
    cache = report["cache"]
    assert cache["dir"] == str(root / ".gitml" / "cache")
    # a plain directory on one filesystem: these always work; reflink depends on the fs
    assert cache["link_types_supported"]["copy"] is True
    assert cache["link_types_supported"]["hardlink"] is True
    assert cache["link_types_supported"]["symlink"] is True
    assert cache["link_type_used"] in ("reflink", "copy")
    assert not [p for p in (root / ".gitml" / "cache" / "tmp").iterdir()]  # probes cleaned
    remotes = {r["name"]: r for r in report["remotes"]}
    assert remotes["folder"]["reachable"] is True and remotes["folder"]["default"] is True
    assert remotes["s3"]["reachable"] is True
    assert remotes["down"]["reachable"] is False
    assert "unreachable" in remotes["down"]["error"]
    assert remotes["hung"]["reachable"] is None
    assert remotes["hung"]["error"] == "no answer within 20 s"
    assert report["hooks"]["installed"] == {
        "pre-commit": False,
        "pre-push": False,
        "post-checkout": False,
        "post-merge": False,
    }

    run_gitml("remote", "remove", "down", cwd=root)
    run_gitml("remote", "remove", "hung", cwd=root)
    run_gitml("install", cwd=root)
    healthy = run_gitml("doctor", "--json", cwd=root, env=S3_ENV)
    report = json.loads(healthy.stdout)
    assert report["problems"] == []
    assert set(report["hooks"]["installed"].values()) == {True}
    text = run_gitml("doctor", cwd=root, env=S3_ENV).stdout
    assert "remote folder (default): " in text and ": reachable" in text
    assert "hooks (" in text and "pre-push" in text


def test_doctor_outside_a_workspace_still_reports_versions(tmp_path: Path) -> None:
    done = run_gitml("doctor", "--json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert report["workspace"] is None
    assert report["versions"]["python"].count(".") == 2
    assert report["remotes"] == [] and report["problems"] == []


def test_doctor_names_a_cache_that_no_configured_link_type_can_use(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    with open(root / ".gitml" / "config", "a") as f:
        f.write('[cache]\ntype = ["reflink"]\n')  # no fallback, and the test fs may lack it
    report = json.loads(run_gitml("doctor", "--json", cwd=root, check=False).stdout)
    if report["cache"]["link_types_supported"]["reflink"]:
        pytest.skip("this filesystem supports reflinks")
    assert report["cache"]["link_type_used"] is None
    assert any("add 'copy' to cache.type" in p for p in report["problems"])


def test_shell_completion_offers_commands(tmp_path: Path) -> None:
    env = {"_GITML_COMPLETE": "complete_bash", "COMP_WORDS": "gitml ins", "COMP_CWORD": "1"}
    assert run_gitml(cwd=tmp_path, env=env).stdout.split() == ["install"]
    env = {"_GITML_COMPLETE": "complete_bash", "COMP_WORDS": "gitml remote ", "COMP_CWORD": "2"}
    assert {"add", "list", "remove", "default", "modify"} <= set(
        run_gitml(cwd=tmp_path, env=env).stdout.split()
    )
    script = run_gitml("--show-completion", "bash", cwd=tmp_path).stdout
    assert "complete -o default -F _gitml_completion gitml" in script
    home = tmp_path / "home"
    home.mkdir()
    run_gitml("--install-completion", "bash", cwd=tmp_path, env={"HOME": str(home)})
    assert "source" in (home / ".bashrc").read_text()
    assert "_gitml_completion" in (home / ".bash_completions" / "gitml.sh").read_text()


def test_push_rev_pushes_what_an_older_commit_needs(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    store = tmp_path / "store"
    run_gitml("remote", "add", "-d", "store", str(store), cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    v1 = hash_file(root / "data.bin").hexdigest
    write(root / "data.bin", b"doctor data, version 2\n")
    run_gitml("commit", cwd=root)
    git("commit", "-qam", "v2", cwd=root)
    v2 = hash_file(root / "data.bin").hexdigest

    pushed = json.loads(run_gitml("push", "--rev", "HEAD~1", "--json", cwd=root).stdout)
    assert pushed["transferred"] == 1
    assert v1 in stored(store)
    assert v2 not in stored(store)

    bad = run_gitml("push", "--rev", "no-such-rev", cwd=root, check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "gitml: error: unknown revision 'no-such-rev'"
    assert v2 not in stored(store)
