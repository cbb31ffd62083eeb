"""What a remote's failures look like to a user (issue 19 defects 5-8): one line naming
the remote and the cause, and reads that survive a dropped connection."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, git, make_repo, run_gitml, write
from tests.integration.remote.test_s3_reads import verifying_endpoint
from tests.s3_endpoint import S3Endpoint

__all__ = ["verifying_endpoint"]
MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.parametrize("what", ["a large file", "small files"])
def test_a_full_folder_remote_is_named_with_its_path(
    repo: Path, small_disk: Path, what: str
) -> None:
    if what == "a large file":
        write(repo / "big", os.urandom(6 * MiB))
    else:
        for i in range(60):
            write(repo / "d" / f"f{i}", os.urandom(100_000))
    run_gitml("add", "big" if what == "a large file" else "d", cwd=repo)
    store = small_disk / "store"
    run_gitml("remote", "add", "-d", "full", str(store), cwd=repo)
    result = run_gitml("push", cwd=repo, check=False)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"gitml: error: remote 'full' is full: no space left on device at {store} while "
    )
    assert ".gitml/cache" not in line


def test_a_wrong_s3_key_is_reported_as_rejected_credentials(
    tmp_path: Path, verifying_endpoint: tuple[str, str, str, str]
) -> None:
    url, bucket, key, secret = verifying_endpoint
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "f", b"data")
    run_gitml("add", "f", cwd=repo)
    run_gitml("remote", "add", "-d", "s3", f"s3://{bucket}/store", cwd=repo)
    run_gitml("remote", "modify", "s3", "endpoint_url", url, cwd=repo)
    wrong_key = {"AWS_ACCESS_KEY_ID": "AKIA" + "X" * 16, "AWS_SECRET_ACCESS_KEY": secret}
    wrong_secret = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "wrong" + secret[5:]}
    for env, command in [
        (wrong_key, ["status", "--remote"]),
        (wrong_key, ["fetch"]),
        (wrong_secret, ["push"]),
    ]:
        result = run_gitml(*command, cwd=repo, env=env, check=False)
        assert result.returncode == 1, command
        [line] = result.stderr.splitlines()
        assert "credentials rejected" in line and "remote 's3'" in line, line


class CuttingProxy:
    """A TCP proxy in front of an S3 endpoint that cuts the answers to the first `cuts`
    requests for pack files after `keep` bytes (a reset connection mid-download), or with
    `shorten`, sends them complete but 100 bytes short (a Content-Length that lies)."""

    def __init__(self, target: str, cuts: int, keep: int = 1500, shorten: bool = False) -> None:
        import socket
        import threading

        host, _, port = target.removeprefix("http://").partition(":")
        self.target = (host, int(port))
        self.cuts = cuts
        self.keep = keep
        self.shorten = shorten
        self.cut = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            doomed = threading.Event()
            threading.Thread(target=self._requests, args=(client, upstream, doomed)).start()
            threading.Thread(target=self._answers, args=(upstream, client, doomed)).start()

    def _requests(self, source: Any, sink: Any, doomed: Any) -> None:
        while data := _recv(source):
            if b"GET " in data and b".pack" in data.split(b"\r\n", 1)[0]:
                with self._lock:
                    if self.cut < self.cuts:
                        self.cut += 1
                        doomed.set()
            try:
                sink.sendall(data)
            except OSError:
                break
        _close(source, sink)

    def _answers(self, source: Any, sink: Any, doomed: Any) -> None:
        sent = 0
        pending = b""
        while data := _recv(source):
            if doomed.is_set() and self.shorten:
                pending += data
                head, found, body = pending.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head) if found else None
                if length is None or len(body) < int(length[1]):
                    continue
                size = int(length[1])
                head = head.replace(length[0], b"Content-Length: %d" % (size - 100))
                sink.sendall(head + found + body[: size - 100] + body[size:])
                pending = b""
                doomed.clear()
                continue
            if doomed.is_set():
                sink.sendall(data[: max(0, self.keep - sent)])
                sent += len(data)
                if sent >= self.keep:
                    _reset(sink)
                    break
                continue
            try:
                sink.sendall(data)
            except OSError:
                break
        _close(source, sink)

    def close(self) -> None:
        self._server.close()


def _recv(sock: Any) -> bytes:
    try:
        data: bytes = sock.recv(65536)
        return data
    except OSError:
        return b""


def _reset(sock: Any) -> None:
    """Drop the connection now: shutdown wakes the other thread's blocked recv (a bare
    close would wait for it), so the client sees its answer end mid-body."""
    import socket

    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    _close(sock)


def _close(*socks: Any) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.close()


def _pull_through_proxy(
    tmp_path: Path, s3_endpoint: S3Endpoint, s3_bucket: str, cuts: int, shorten: bool = False
) -> tuple[Result, dict[str, bytes], Path, CuttingProxy]:
    src = make_repo(tmp_path / "src")
    run_gitml("init", cwd=src)
    files = {f"f{i:03}": os.urandom(4000) + bytes([i]) for i in range(200)}
    for name, data in files.items():
        write(src / "data" / name, data)
    run_gitml("add", "data", cwd=src)
    run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/store", cwd=src)
    run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=src)
    small_packs = {"GITML_REMOTE_PACK_SIZE": str(100_000)}  # 200 files: 8-9 packs
    run_gitml("push", cwd=src, env=small_packs)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "data", cwd=src)
    proxy = CuttingProxy(s3_endpoint.url, cuts=cuts, shorten=shorten)
    try:
        dst = tmp_path / "dst"
        git("clone", "-q", str(src), str(dst), cwd=tmp_path)
        run_gitml("remote", "modify", "--local", "s3", "endpoint_url", proxy.url, cwd=dst)
        result = run_gitml("pull", cwd=dst, check=False)
    finally:
        proxy.close()
    return result, files, dst, proxy


def test_pack_downloads_cut_short_are_retried(
    tmp_path: Path, s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    result, files, dst, proxy = _pull_through_proxy(tmp_path, s3_endpoint, s3_bucket, cuts=3)
    assert proxy.cut == 3  # the faults did happen
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_bytes() for p in (dst / "data").iterdir()} == files


@pytest.mark.parametrize("times", [2, 10_000])
def test_pack_downloads_that_come_back_short_are_retried_then_one_line(
    tmp_path: Path, s3_endpoint: S3Endpoint, s3_bucket: str, times: int
) -> None:
    result, files, dst, _ = _pull_through_proxy(
        tmp_path, s3_endpoint, s3_bucket, cuts=times, shorten=True
    )
    if times == 2:
        assert result.returncode == 0, result.stderr
        assert {p.name: p.read_bytes() for p in (dst / "data").iterdir()} == files
        return
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("gitml: error: packs/"), line
    assert "on remote 's3' came back cut short 4 times" in line
