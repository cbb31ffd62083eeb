"""One round trip per remote backend through the installed `gitml`, against real servers
on 127.0.0.1 (tests/backend_servers.py): `gitml remote add`, `add`, `push`, a fresh
`git clone` of a bare repository, `gitml pull`, the same bytes. Plus what a user sees
when a backend's extra is not installed, and when pushing to a read-only HTTP remote."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.backend_servers import GCS_ENV, Azurite, GCSEmulator, HTTPServer, S3rver, SSHServer
from tests.conftest import git, make_repo, run_gitml, write
from tests.s3_endpoint import S3Endpoint


@dataclass
class Remote:
    """How a user configures one remote: the URL, the options kept in `.gitml/config`
    (tracked: they come with the clone), the credentials each clone adds to
    `.gitml/config.local`, and the environment."""

    url: str
    options: dict[str, str] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def _configure(repo: Path, remote: Remote) -> None:
    for key, value in remote.options.items():
        run_gitml("remote", "modify", "store", key, value, cwd=repo, env=remote.env)
    for key, value in remote.local.items():
        run_gitml("remote", "modify", "--local", "store", key, value, cwd=repo, env=remote.env)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for name in ("data", "model.bin")
        for p in ([root / name] if (root / name).is_file() else sorted((root / name).rglob("*")))
        if p.is_file()
    }


def round_trip(tmp_path: Path, remote: Remote, reader: Remote | None = None) -> None:
    """Push from one clone, pull into a fresh clone of the bare repository, compare bytes.
    `reader`: the remote the fresh clone pulls from, when it differs (HTTP serving a folder)."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    src = make_repo(tmp_path / "src")
    run_gitml("init", cwd=src)
    for i in range(8):
        write(src / "data" / f"part{i % 2}" / f"f{i}.txt", f"row {i}\n" * (i + 1))
    write(src / "model.bin", os.urandom(5 * 1024 * 1024 + 17))  # above the in-memory limit
    run_gitml("add", "data", "model.bin", cwd=src)
    run_gitml("remote", "add", "-d", "store", remote.url, cwd=src, env=remote.env)
    _configure(src, remote)
    pushed = json.loads(run_gitml("push", "--json", cwd=src, env=remote.env).stdout)
    assert pushed["failed"] == [] and pushed["transferred"] == 10  # 9 files + 1 manifest
    git("add", "-A", cwd=src)
    git("commit", "-qm", "data", cwd=src)
    git("remote", "add", "origin", str(bare), cwd=src)
    git("push", "-q", "origin", "main", cwd=src)

    dst = tmp_path / "dst"
    git("clone", "-q", str(bare), str(dst), cwd=tmp_path)
    assert not (dst / "model.bin").exists()
    reader = reader or remote
    if reader is not remote:
        run_gitml("remote", "modify", "store", "url", reader.url, cwd=dst)
    for key, value in reader.local.items():
        run_gitml("remote", "modify", "--local", "store", key, value, cwd=dst, env=reader.env)
    pulled = json.loads(run_gitml("pull", "--json", cwd=dst, env=reader.env).stdout)
    assert pulled["transferred"] == 10 and pulled["failed"] == []
    assert _files(dst) == _files(src)
    status = json.loads(run_gitml("status", "--json", cwd=dst, env=reader.env).stdout)
    assert status == {"outputs": []}
    # every object read back from the remote and re-hashed; nothing missing there
    run_gitml("verify", "--remote", "store", cwd=dst, env=reader.env)
    run_gitml("status", "--remote", "store", "--quiet", cwd=dst, env=reader.env)


def test_ssh_round_trip(tmp_path: Path, ssh_server: SSHServer) -> None:
    options = {"client_keys": str(ssh_server.client_key)}
    options["known_hosts"] = str(ssh_server.known_hosts)
    round_trip(tmp_path, Remote(ssh_server.new_remote_url(), options))


def test_azure_round_trip(tmp_path: Path, azurite: Azurite) -> None:
    url = f"az://{azurite.new_container()}/team/data"
    round_trip(tmp_path, Remote(url, local={"connection_string": azurite.connection_string}))


def test_gcs_round_trip(tmp_path: Path, gcs_emulator: GCSEmulator) -> None:
    url = f"gs://{gcs_emulator.new_bucket()}/team/data"
    options = {"endpoint_url": gcs_emulator.url, "project": "gitml-test"}
    round_trip(tmp_path, Remote(url, options, {"token": "anon"}, dict(GCS_ENV)))


def test_s3rver_round_trip(tmp_path: Path, s3rver: S3rver) -> None:
    url = f"s3://{s3rver.new_bucket()}/team/data"
    round_trip(tmp_path, Remote(url, {"endpoint_url": s3rver.url}, env=s3rver.env))


def test_http_round_trip_from_a_served_folder_remote(
    tmp_path: Path, http_server: HTTPServer
) -> None:
    folder, url = http_server.new_folder()
    round_trip(tmp_path, Remote(str(folder)), reader=Remote(url))
    refused = run_gitml("push", cwd=tmp_path / "dst", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "gitml: error: remote 'store' (http://) is read-only"
    ], refused.stderr


Hide = Callable[[str], dict[str, str]]


@pytest.fixture
def without_package(tmp_path: Path) -> Hide:
    """The environment of a Python where `package` is not installed: a `sitecustomize`
    on PYTHONPATH makes its import fail as a missing module's does."""

    def hide(package: str) -> dict[str, str]:
        site = tmp_path / f"without-{package}"
        write(
            site / "sitecustomize.py",
            "import sys\n"
            "class _Absent:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        if name.split('.')[0] == {package!r}:\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "        return None\n"
            "sys.meta_path.insert(0, _Absent())\n",
        )
        return {"PYTHONPATH": str(site)}

    return hide


@pytest.mark.parametrize(
    ("url", "package", "extra"),
    [
        ("ssh://user@127.0.0.1:1/data", "sshfs", "ssh"),
        ("az://container/data", "adlfs", "azure"),
        ("gs://bucket/data", "gcsfs", "gcs"),
    ],
)
def test_missing_extra_is_one_line_naming_it(
    tmp_path: Path, without_package: Hide, url: str, package: str, extra: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "data.txt", "some data\n")
    run_gitml("add", "data.txt", cwd=repo)
    run_gitml("remote", "add", "-d", "store", url, cwd=repo)
    env = without_package(package)
    scheme = url.split("://")[0]
    for command in (["push"], ["status", "--remote"]):
        result = run_gitml(*command, cwd=repo, env=env, check=False)
        assert result.returncode == 1, result
        assert result.stderr.strip().splitlines() == [
            f"gitml: error: remote 'store': {scheme}:// needs gitml's {extra} extra "
            f"(pip install 'gitml[{extra}]')"
        ], result.stderr


def test_moto_round_trip(tmp_path: Path, s3_endpoint: S3Endpoint) -> None:
    """The same round trip on moto, so both S3 servers run the same steps."""
    bucket = s3_endpoint.new_bucket()
    round_trip(tmp_path, Remote(f"s3://{bucket}/team/data", {"endpoint_url": s3_endpoint.url}))
