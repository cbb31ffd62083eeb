"""`gitml remote ...` through the installed command: config files, defaults, credentials."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from tests.conftest import git, run_gitml, write


def _toml(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text()) if path.exists() else {}


def test_add_list_default_remove(repo: Path) -> None:
    run_gitml("remote", "add", "-d", "origin", "../store", cwd=repo)
    run_gitml("remote", "add", "backup", "s3://bucket/path/", cwd=repo)
    config = _toml(repo / ".gitml/config")
    assert config["remote"] == {  # type: ignore[comparison-overlap]
        "origin": {"url": "../store"},
        "backup": {"url": "s3://bucket/path"},
    }
    assert config["core"] == {"remote": "origin"}  # type: ignore[comparison-overlap]
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    assert listed["default"] == "origin"
    assert [(r["name"], r["url"], r["default"]) for r in listed["remotes"]] == [
        ("backup", "s3://bucket/path", False),
        ("origin", "../store", True),
    ]
    run_gitml("remote", "default", "backup", cwd=repo)
    assert run_gitml("remote", "default", cwd=repo).stdout.strip() == "backup"
    run_gitml("remote", "remove", "backup", cwd=repo)
    config = _toml(repo / ".gitml/config")
    assert "backup" not in config["remote"]  # type: ignore[operator]
    assert "remote" not in config.get("core", {})  # type: ignore[operator]
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    assert listed["default"] is None
    assert [r["name"] for r in listed["remotes"]] == ["origin"]


def test_relative_folder_url_is_stored_relative_to_workspace_root(repo: Path) -> None:
    sub = repo / "deep" / "er"
    sub.mkdir(parents=True)
    run_gitml("remote", "add", "here", "../../../store", cwd=sub)
    assert _toml(repo / ".gitml/config")["remote"] == {"here": {"url": "../store"}}  # type: ignore[comparison-overlap]


def test_add_existing_name_and_bad_name_fail(repo: Path) -> None:
    run_gitml("remote", "add", "origin", "/tmp/x", cwd=repo)
    again = run_gitml("remote", "add", "origin", "/tmp/y", cwd=repo, check=False)
    assert again.returncode == 1
    assert "remote 'origin' already exists" in again.stderr
    bad = run_gitml("remote", "add", "no/slash", "/tmp/y", cwd=repo, check=False)
    assert bad.returncode == 1 and "invalid remote name" in bad.stderr


def test_modify_types_values_and_unset(repo: Path) -> None:
    run_gitml("remote", "add", "s3", "s3://b/p", cwd=repo)
    run_gitml("remote", "modify", "s3", "endpoint_url", "http://127.0.0.1:9", cwd=repo)
    run_gitml("remote", "modify", "s3", "anon", "true", cwd=repo)
    run_gitml("remote", "modify", "s3", "max_concurrency", "3", cwd=repo)
    table = _toml(repo / ".gitml/config")["remote"]["s3"]  # type: ignore[index]
    assert table == {
        "url": "s3://b/p",
        "endpoint_url": "http://127.0.0.1:9",
        "anon": True,
        "max_concurrency": 3,
    }
    run_gitml("remote", "modify", "s3", "anon", "--unset", cwd=repo)
    assert "anon" not in _toml(repo / ".gitml/config")["remote"]["s3"]  # type: ignore[index]
    unknown = run_gitml("remote", "modify", "nope", "region", "x", cwd=repo, check=False)
    assert unknown.returncode == 1 and "remote 'nope' is not configured" in unknown.stderr


def test_credentials_are_refused_in_tracked_config(repo: Path) -> None:
    run_gitml("remote", "add", "-d", "s3", "s3://b/p", cwd=repo)
    for key in ("secret", "key", "secret_access_key", "session_token", "password", "token"):
        refused = run_gitml("remote", "modify", "s3", key, "hunter2", cwd=repo, check=False)
        assert refused.returncode == 1, key
        lines = refused.stderr.strip().splitlines()
        assert lines[0].startswith("gitml: error: ") and "credential" in lines[0]
        assert "--local" in refused.stderr
        assert "hunter2" not in (repo / ".gitml/config").read_text()
    run_gitml("remote", "modify", "--local", "s3", "secret", "hunter2", cwd=repo)
    assert "hunter2" not in (repo / ".gitml/config").read_text()
    assert _toml(repo / ".gitml/config.local")["remote"] == {"s3": {"secret": "hunter2"}}  # type: ignore[comparison-overlap]
    # config.local is ignored by git: the secret can never be committed by `git add -A`
    git("add", "-A", cwd=repo)
    assert ".gitml/config.local" not in git("ls-files", cwd=repo)
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    assert listed["remotes"][0]["options"] == {"secret": "***"}
    url = run_gitml("remote", "add", "web", "https://user:pw@example.com/x", cwd=repo, check=False)
    assert url.returncode == 1 and "password" in url.stderr


def test_hand_written_credential_in_tracked_config_blocks_transfers(repo: Path) -> None:
    write(
        repo / ".gitml/config",
        '[core]\nremote = "origin"\n[remote.origin]\nurl = "../store"\n'
        'secret_access_key = "oops"\n',
    )
    result = run_gitml("push", cwd=repo, check=False)
    assert result.returncode == 1
    assert "remote.origin.secret_access_key is a credential" in result.stderr
    assert not (repo.parent / "store").exists()


def test_local_remote_and_precedence(repo: Path, tmp_path: Path) -> None:
    run_gitml("remote", "add", "-d", "shared", str(tmp_path / "a"), cwd=repo)
    run_gitml("remote", "add", "--local", "mine", str(tmp_path / "b"), cwd=repo)
    run_gitml("remote", "default", "--local", "mine", cwd=repo)
    assert run_gitml("remote", "default", cwd=repo).stdout.strip() == "mine"
    env_choice = run_gitml("remote", "default", cwd=repo, env={"GITML_REMOTE": "shared"})
    assert env_choice.stdout.strip() == "shared"
    write(repo / "f.txt", "x")
    run_gitml("add", "f.txt", cwd=repo)
    run_gitml("push", cwd=repo)
    assert (tmp_path / "b" / "gitml-remote.json").exists()
    assert not (tmp_path / "a").exists()
    run_gitml("push", "-r", "shared", cwd=repo, env={"GITML_REMOTE": "mine"})
    assert (tmp_path / "a" / "gitml-remote.json").exists()


def test_no_remote_configured(repo: Path) -> None:
    write(repo / "f.txt", "x")
    run_gitml("add", "f.txt", cwd=repo)
    result = run_gitml("push", cwd=repo, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "gitml: error: no remote configured"
    run_gitml("remote", "add", "one", "/tmp/never-used", cwd=repo)
    result = run_gitml("pull", cwd=repo, check=False)
    assert result.returncode == 1
    assert "no default remote" in result.stderr
    result = run_gitml("fetch", "-r", "two", cwd=repo, check=False)
    assert result.returncode == 1 and "remote 'two' is not configured" in result.stderr
