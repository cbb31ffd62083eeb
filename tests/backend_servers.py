"""Real storage servers for the backend tests, each started once per test process on a
free port of 127.0.0.1 and stopped at the end:

- `ssh_server`: Debian's OpenSSH `sshd` (non-daemon, its own config, host key, client key
  and authorized_keys in a temporary folder), used through fsspec's `sshfs`;
- `azurite`: the Azure Blob emulator (npm `azurite`), used through `adlfs`;
- `gcs_emulator`: `gcp-storage-emulator` (PyPI), used through `gcsfs`;
- `s3rver`: a second S3 server (npm `s3rver`) beside moto (tests/s3_endpoint.py);
- `http_server`: Python's http.server in a thread, serving a folder read-only.

scripts/test.sh installs the binaries (apt-get openssh-server, npm into
.gitml-test-venvs/node). A missing one fails the fixture with a message saying what to
install; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.s3_endpoint import S3Endpoint, free_port

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / ".gitml-test-venvs" / "node" / "node_modules" / ".bin"
START_TIMEOUT = 60.0

# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
# s3rver accepts only its own dummy key pair.


def _missing(what: str, how: str) -> NoReturn:
    pytest.fail(f"{what} is not installed: {how} (scripts/test.sh installs it)", pytrace=False)


def _node_bin(name: str, package: str) -> str:
    found = NODE_BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    _missing(name, f"npm install --prefix .gitml-test-venvs/node {package}")


def _wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"{what} exited {proc.returncode} at start:\n{out}", pytrace=False)
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} in {START_TIMEOUT:.0f} s")


@contextlib.contextmanager
def _process(cmd: list[str], port: int, what: str, cwd: Path | None = None) -> Iterator[None]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, proc, what)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# SSH ---------------------------------------------------------------------------------


@dataclass
class SSHServer:
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    home: Path  # a folder the tests may fill with remotes

    def url(self, path: Path | str) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"

    @property
    def options(self) -> dict[str, Any]:
        return {"client_keys": [str(self.client_key)], "known_hosts": str(self.known_hosts)}

    def new_remote_url(self) -> str:
        return self.url(self.home / f"remote-{uuid.uuid4().hex[:12]}")


def _sshd_binary() -> str:
    path = os.pathsep.join(["/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")])
    found = shutil.which("sshd", path=path)
    if not found:
        _missing("sshd", "apt-get install openssh-server")
    return found


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    sshd = _sshd_binary()
    keygen = shutil.which("ssh-keygen")
    if not keygen:
        _missing("ssh-keygen", "apt-get install openssh-client")
    base = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True
        )
    (base / "authorized_keys").write_bytes((base / "client_key.pub").read_bytes())
    if os.geteuid() == 0:  # sshd's privilege separation folder (Debian creates it at boot)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    port = free_port()
    host_pub = (base / "host_key.pub").read_text().split()[:2]
    (base / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub)}\n")
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base}/host_key\n"
        f"AuthorizedKeysFile {base}/authorized_keys\nPidFile {base}/sshd.pid\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "Subsystem sftp internal-sftp\nLogLevel ERROR\nMaxSessions 100\nMaxStartups 100\n"
    )
    home = base / "data"
    home.mkdir()
    with _process([sshd, "-D", "-e", "-f", str(config)], port, "sshd"):
        yield SSHServer(port, getpass.getuser(), base / "client_key", base / "known_hosts", home)


# Azure Blob (Azurite) ------------------------------------------------------------------


@dataclass
class Azurite:
    port: int

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};"
        )

    @property
    def options(self) -> dict[str, Any]:
        return {"connection_string": self.connection_string}

    def new_container(self) -> str:
        from azure.storage.blob import BlobServiceClient

        name = f"gitml-{uuid.uuid4().hex[:12]}"
        with BlobServiceClient.from_connection_string(self.connection_string) as client:
            client.create_container(name)
        return name


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    binary = _node_bin("azurite-blob", "azurite@3")
    base = tmp_path_factory.mktemp("azurite")
    port = free_port()
    cmd = [
        binary, "--silent", "--loose", "--skipApiVersionCheck", "--blobHost", "127.0.0.1",
        "--blobPort", str(port), "--location", str(base),
    ]  # fmt: skip
    with _process(cmd, port, "azurite-blob", cwd=base):
        yield Azurite(port)


# GCS (gcp-storage-emulator) --------------------------------------------------------------


@dataclass
class GCSEmulator:
    url: str

    @property
    def options(self) -> dict[str, Any]:
        return {"endpoint_url": self.url, "token": "anon", "project": "gitml-test"}

    def new_bucket(self) -> str:
        import requests

        name = f"gitml-{uuid.uuid4().hex[:12]}"
        response = requests.post(
            f"{self.url}/storage/v1/b",
            params={"project": "gitml-test"},
            json={"name": name},
            timeout=30,
        )
        response.raise_for_status()
        return name


# gcsfs's default filesystem first asks a gRPC API (which no emulator serves) what kind
# of bucket it talks to, and retries for minutes; the plain JSON-API filesystem is used.
GCS_ENV = {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GCSEmulator]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in GCS_ENV.items():
            patch.setenv(key, value)
        yield from _gcs_emulator()


def _gcs_emulator() -> Iterator[GCSEmulator]:
    try:
        from gcp_storage_emulator.server import create_server
    except ImportError:
        _missing("gcp-storage-emulator", "pip install -e '.[test]'")
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        _wait_for_port(port, None, "gcp-storage-emulator")
        yield GCSEmulator(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


# A second S3 server (s3rver) -------------------------------------------------------------


@dataclass
class S3rver(S3Endpoint):
    access_key: str = "S3RVER"  # the only key pair s3rver accepts
    secret_key: str = "S3RVER"

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3rver]:
    binary = _node_bin("s3rver", "s3rver@3")
    base = tmp_path_factory.mktemp("s3rver")
    port = free_port()
    cmd = [binary, "--silent", "-d", str(base), "-a", "127.0.0.1", "-p", str(port)]
    with _process(cmd, port, "s3rver", cwd=base):
        yield S3rver(f"http://127.0.0.1:{port}")


@pytest.fixture
def s3rver_env(s3rver: S3rver, monkeypatch: pytest.MonkeyPatch) -> S3rver:
    """s3rver with its key pair in the environment (the AWS variables beat options)."""
    for key, value in s3rver.env.items():
        monkeypatch.setenv(key, value)
    return s3rver


# HTTP (read-only) ---------------------------------------------------------------------


@dataclass
class HTTPServer:
    url: str
    folder: Path  # what it serves: folder remotes are pushed below it

    def new_folder(self) -> tuple[Path, str]:
        """A folder below the served one (for a folder remote) and its URL."""
        name = f"remote-{uuid.uuid4().hex[:12]}"
        return self.folder / name, f"{self.url}/{name}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPServer]:
    folder = tmp_path_factory.mktemp("http")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HTTPServer(f"http://127.0.0.1:{server.server_address[1]}", folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
