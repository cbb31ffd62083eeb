#!/usr/bin/env python3
"""Benchmark harness: gitml vs DVC on seeded, reproducible workloads.

Stdlib only. See scripts/README-bench.md for usage.

Layout
------
* ``Workload``   -- generates (once, cached) a seeded data set and copies it into a repo.
* ``Tool``       -- maps abstract operations (init/add/status/checkout/repro/remote/push/pull)
                    to argv lists. ``GitmlTool`` and ``DvcTool`` implement it.
* ``Remote``     -- where the remote scenarios push to: ``FolderRemote`` (a local folder) or
                    ``S3Remote`` (a bucket per repo on a moto server, ``MotoServer``, that the
                    harness starts on 127.0.0.1 and whose request log it counts).
* ``Scenario``   -- a named, timed operation registered in ``SCENARIOS`` (``--only`` selects).
                    Each scenario declares the repo state it needs; the harness brings a repo
                    to that state with untimed setup steps and times only the scenario's argv.
* ``Runner``     -- runs one subprocess, timing it with ``time.perf_counter`` and taking the
                    child's peak RSS from ``os.wait4``; output goes to a per-run log file.

Remote scenarios (push, push-again, status-remote, pull-fresh) run once per ``--remotes``
kind, each rep in a fresh repo with a fresh, empty remote.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
GiB = 1 << 30
BLOCK = 8 * MiB


# --------------------------------------------------------------------------------------
# helpers


def parse_size(text: str) -> int:
    """'1G', '64M', '512MiB', '4k', '1048576' -> bytes (binary units)."""
    s = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": MiB, "G": GiB, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def fmt_size(n: int) -> str:
    for unit, f in (("G", GiB), ("M", MiB), ("K", 1 << 10)):
        if n >= f and n % f == 0:
            return f"{n // f}{unit}"
    return str(n)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rmtree(path: Path) -> None:
    """rm -rf that copes with read-only files/dirs (DVC/gitml caches protect their objects)."""

    def onexc(func: Callable[..., object], p: str, _exc: BaseException) -> None:
        parent = os.path.dirname(p)
        with contextlib.suppress(OSError):
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            os.chmod(p, os.lstat(p).st_mode | stat.S_IWUSR)
        func(p)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=lambda f, p, e: onexc(f, p, e[1]))


# Scratch trees with many files are not deleted until the run ends: ext4 skips inodes it
# freed in the last minutes when it allocates new ones (fs/ext4/ialloc.c:recently_deleted),
# so deleting one rep's 40,000 files made the next rep's file creation several times slower
# for whichever tool ran next. The `rm -rf` that the checkout scenario itself times against
# stays, as it is part of that scenario.
TRASH: list[Path] = []
MANY_FILES = 1000


def discard_tree(path: Path, many_files: bool) -> None:
    """rm -rf now, or (many files) move it aside and delete it when the run ends."""
    if not path.exists():
        return
    if not many_files:
        rmtree(path)
        return
    trash = path.parent / f".trash-{len(TRASH)}-{path.name}"
    path.rename(trash)
    TRASH.append(trash)


def empty_trash() -> None:
    while TRASH:
        rmtree(TRASH.pop())


def drop_caches(warn: list[bool]) -> None:
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as e:
        if not warn:
            log(f"warning: --drop-caches failed ({e}); continuing with warm caches")
            warn.append(True)


class BenchError(Exception):
    """A command or check failed; aborts the current scenario."""


# --------------------------------------------------------------------------------------
# running commands


@dataclass
class Sample:
    seconds: float
    peak_rss_mib: float
    user_s: float
    sys_s: float
    load1: float = 0.0  # 1-min load average when the command ended (noise indicator)
    # remote scenarios only: requests the S3 endpoint served during the command (total and
    # by HTTP method), and what the remote held afterwards (bytes, files/objects)
    s3_requests: int | None = None
    s3_by_method: dict[str, int] | None = None
    remote_bytes: int | None = None
    remote_files: int | None = None
    remote_added: int | None = None  # bytes the command added to the remote


# Why a launcher: on Linux a child's ru_maxrss starts at its parent's RSS high-water mark
# (fork copies it, and exec folds the old mm's peak into the process's maxrss), so a
# command spawned straight from this harness could never report less than the harness's
# own peak (~45 MiB after generating workloads). This tiny launcher (``python -I -S``,
# ~8 MiB) spawns the command, wait4()s it and reports wall time and rusage on fd 3. Its
# start-up cost is outside the timed window; the floor it imposes (~8 MiB) is below any
# Python CLI's own footprint.
LAUNCHER = """\
import os, sys, time
out = int(sys.argv[1]); argv = sys.argv[2:]
os.set_inheritable(out, False)
t0 = time.perf_counter()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ)
except OSError as e:
    os.write(2, f"bench launcher: cannot start {argv[0]!r}: {e}\\n".encode()); sys.exit(127)
_, st, ru = os.wait4(pid, 0)
dt = time.perf_counter() - t0
rc = os.waitstatus_to_exitcode(st)
os.write(out, f"{dt!r} {ru.ru_maxrss} {ru.ru_utime!r} {ru.ru_stime!r} {rc}".encode())
sys.exit(rc if rc >= 0 else 128 - rc)
"""


class Runner:
    def __init__(self, log_path: Path, timeout: float, drop: bool) -> None:
        self.log_path = log_path
        self.timeout = timeout
        self.drop = drop
        self._drop_warned: list[bool] = []

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], timed: bool = False) -> Sample:
        """Run argv; raise BenchError with the output tail on failure."""
        if timed:
            # Flush dirty pages from setup (e.g. a 1 GiB copy) so writeback doesn't land
            # inside the timed window.
            if self.drop:
                drop_caches(self._drop_warned)
            else:
                os.sync()
        with open(self.log_path, "ab") as fh:
            header = f"\n### {'[timed] ' if timed else ''}$ {shlex.join(argv)}   (cwd={cwd})\n"
            fh.write(header.encode())
            fh.flush()
            start_off = fh.tell()
            rfd, wfd = os.pipe()
            try:
                launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(wfd), *argv]
                proc = subprocess.Popen(
                    launcher,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    pass_fds=(wfd,),
                    start_new_session=True,  # so a timeout can kill the whole tree
                )
            finally:
                os.close(wfd)
            try:
                self._wait(proc, argv)
                with os.fdopen(rfd, "rb") as r:
                    report = r.read().decode()
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(rfd)
                raise
        fields = report.split()
        rc = int(fields[4]) if len(fields) == 5 else proc.returncode
        if rc != 0 or len(fields) != 5:
            raise BenchError(
                f"command failed (exit {rc}): {shlex.join(argv)}\n  cwd: {cwd}\n"
                f"  log: {self.log_path}\n--- output tail ---\n{self._tail(start_off)}"
            )
        secs, maxrss_kib, utime, stime, _ = fields
        # Linux reports ru_maxrss in KiB; wait4's rusage covers the child and the
        # descendants it waited for (e.g. git subprocesses).
        return Sample(
            float(secs), int(maxrss_kib) / 1024, float(utime), float(stime), os.getloadavg()[0]
        )

    def _wait(self, proc: subprocess.Popen[bytes], argv: list[str]) -> None:
        try:
            proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise BenchError(f"timeout after {self.timeout:.0f}s: {shlex.join(argv)}") from None

    def _tail(self, offset: int, lines: int = 25) -> str:
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(no output)"


# --------------------------------------------------------------------------------------
# workloads


@dataclass
class Workload:
    """A seeded data set. ``target`` is what gets added (relative to the repo root)."""

    name: str
    target: str
    seed: int
    params: dict[str, int]
    describe: str

    @property
    def many_files(self) -> bool:
        return self.params.get("count", 1) >= MANY_FILES

    def cache_dir(self, workdir: Path) -> Path:
        tag = "-".join(f"{k}{fmt_size(v)}" for k, v in sorted(self.params.items()))
        return workdir / "workloads" / f"{self.name}-{tag}-s{self.seed}"

    def ensure(self, workdir: Path) -> Path:
        """Generate the data once into the workload cache; return the cached ``data`` dir."""
        root = self.cache_dir(workdir)
        done = root / ".complete"
        if done.exists():
            return root / "data"
        rmtree(root)
        (root / "data").mkdir(parents=True)
        log(f"generating workload {self.name} ({self.describe}) in {root} ...")
        t0 = time.perf_counter()
        self._generate(root / "data")
        manifest = {
            str(p.relative_to(root)): p.stat().st_size
            for p in sorted((root / "data").rglob("*"))
            if p.is_file()
        }
        (root / "manifest.json").write_text(json.dumps(manifest, indent=0))
        done.write_text(f"{time.time()}\n")
        log(f"  generated in {time.perf_counter() - t0:.1f}s")
        return root / "data"

    def manifest(self, workdir: Path) -> dict[str, int]:
        return json.loads((self.cache_dir(workdir) / "manifest.json").read_text())

    def _generate(self, data: Path) -> None:
        raise NotImplementedError


class BigFile(Workload):
    def __init__(self, size: int, seed: int) -> None:
        super().__init__(
            "bigfile", "data/big.bin", seed, {"size": size}, f"1 file of {fmt_size(size)}"
        )

    def _generate(self, data: Path) -> None:
        rng = random.Random(self.seed)
        left = self.params["size"]
        with open(data / "big.bin", "wb") as fh:
            while left > 0:
                n = min(BLOCK, left)
                fh.write(rng.randbytes(n))
                left -= n


class ManyFiles(Workload):
    FILE_SIZE = 4096
    FOLDERS = 100

    def __init__(self, count: int, seed: int) -> None:
        super().__init__(
            "manyfiles",
            "data",
            seed,
            {"count": count},
            f"{count} files of 4 KiB in {min(count, self.FOLDERS)} folders",
        )

    def _generate(self, data: Path) -> None:
        rng = random.Random(self.seed)
        count = self.params["count"]
        folders = max(1, min(count, self.FOLDERS))
        for d in range(folders):
            n = count // folders + (1 if d < count % folders else 0)
            sub = data / f"d{d:03d}"
            sub.mkdir()
            blob = rng.randbytes(n * self.FILE_SIZE)
            for i in range(n):
                (sub / f"f{i:05d}.bin").write_bytes(
                    blob[i * self.FILE_SIZE : (i + 1) * self.FILE_SIZE]
                )


def copy_workload(src: Path, repo: Path) -> None:
    dst = repo / "data"
    dst.mkdir(exist_ok=True)
    shutil.copytree(src, dst, dirs_exist_ok=True)  # copyfile uses sendfile on Linux


def verify_restored(workload: Workload, workdir: Path, repo: Path) -> None:
    """Cheap post-checkout check: every file is back with its size."""
    bad = []
    for rel, size in workload.manifest(workdir).items():
        p = repo / rel
        if not p.exists():
            bad.append(f"missing {rel}")
        elif p.stat().st_size != size:
            bad.append(f"size {rel}: {p.stat().st_size} != {size}")
        if len(bad) >= 5:
            break
    if bad:
        raise BenchError("checkout did not restore the data: " + "; ".join(bad))


# --------------------------------------------------------------------------------------
# tools


class Tool:
    """Maps abstract operations to argv lists. Subclass to add a tool."""

    name = "tool"

    def __init__(self, exe: str) -> None:
        self.exe = exe

    def env(self, run_dir: Path) -> dict[str, str]:
        return dict(os.environ)

    def version(self) -> list[str]:
        return [self.exe, "--version"]

    def init(self) -> list[str]:
        return [self.exe, "init"]

    def configure_link(self, repo: Path, link: str) -> list[list[str]]:
        """Untimed, after init. Return commands to run (may also write files directly)."""
        return []

    def add(self, target: str) -> list[str]:
        return [self.exe, "add", target]

    def status(self) -> list[tuple[str, list[str]]]:
        """(row label, argv); the first is the one compared across tools."""
        return [("status", [self.exe, "status"])]

    def checkout(self) -> list[str]:
        return [self.exe, "checkout"]

    pipeline_file = "gitml.yaml"

    def repro(self) -> list[str]:
        return [self.exe, "repro"]

    def remote_add(self, name: str, url: str) -> list[str]:
        """Add ``name`` as the default remote (written to the tracked config)."""
        return [self.exe, "remote", "add", "-d", name, url]

    def remote_endpoint(self, name: str, url: str) -> list[str]:
        """Point an S3 remote at a custom endpoint (tracked config, so clones get it)."""
        return [self.exe, "remote", "modify", name, "endpoint_url", url]

    def push(self) -> list[str]:
        return [self.exe, "push"]

    def pull(self) -> list[str]:
        return [self.exe, "pull"]

    def remote_status(self) -> list[tuple[str, list[str]]]:
        """(row label, argv): what the default remote lacks; the first is compared."""
        return [("status --remote", [self.exe, "status", "--remote"])]


class GitmlTool(Tool):
    name = "gitml"

    def configure_link(self, repo: Path, link: str) -> list[list[str]]:
        # gitml has no `config` command yet: append to the TOML written by `gitml init`
        # (or to config.local, which wins key by key, if config already has [cache]).
        cfg = repo / ".gitml" / "config"
        cfg.parent.mkdir(exist_ok=True)
        text = cfg.read_text() if cfg.exists() else ""
        if "cache" in tomllib.loads(text):
            cfg = cfg.with_name("config.local")
        with open(cfg, "a") as fh:
            fh.write(f'\n[cache]\ntype = ["{link}"]\n')
        return []


class DvcTool(Tool):
    name = "dvc"
    pipeline_file = "dvc.yaml"

    def __init__(self, exe: str, config_root: Path) -> None:
        super().__init__(exe)
        # A private global/system config dir that turns off analytics and the update
        # check, so DVC makes no network calls and ignores the user's config.
        self.global_dir = config_root / "global"
        self.system_dir = config_root / "system"
        self.global_dir.mkdir(parents=True, exist_ok=True)
        self.system_dir.mkdir(parents=True, exist_ok=True)
        (self.global_dir / "config").write_text(
            "[core]\n    analytics = false\n    check_update = false\n"
        )

    def env(self, run_dir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DVC_NO_ANALYTICS="1",
            DVC_STUDIO_OFFLINE="1",
            DVC_GLOBAL_CONFIG_DIR=str(self.global_dir),
            DVC_SYSTEM_CONFIG_DIR=str(self.system_dir),
            # DVC keeps per-repo index/state DBs in a site cache dir (/var/tmp/dvc by
            # default); keep it per run so reps start cold and nothing leaks outside.
            DVC_SITE_CACHE_DIR=str(run_dir / "dvc-site-cache"),
        )
        return env

    def configure_link(self, repo: Path, link: str) -> list[list[str]]:
        return [[self.exe, "config", "cache.type", link]]

    def status(self) -> list[tuple[str, list[str]]]:
        return [
            ("status", [self.exe, "status"]),
            ("status (dvc data status)", [self.exe, "data", "status"]),
        ]

    def remote_endpoint(self, name: str, url: str) -> list[str]:
        return [self.exe, "remote", "modify", name, "endpointurl", url]

    def remote_status(self) -> list[tuple[str, list[str]]]:
        # `dvc status -c` (--cloud) is DVC's long-standing "what does the remote lack"
        # report, so it is the compared row; `dvc data status --not-in-remote` is the
        # newer variant, shown for information.
        return [
            ("status --remote", [self.exe, "status", "-c"]),
            (
                "status --remote (dvc data status --not-in-remote)",
                [self.exe, "data", "status", "--not-in-remote"],
            ),
        ]


def ensure_dvc_venv(workdir: Path, spec: str, runner_log: Path) -> str:
    venv = workdir / "dvc-venv"
    dvc = venv / "bin" / "dvc"
    marker = venv / ".bench-spec"
    if dvc.exists() and marker.exists() and marker.read_text().strip() == spec:
        return str(dvc)
    log(f"installing {spec!r} into {venv} (once; log: {runner_log}) ...")
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with open(runner_log, "ab") as fh:
        for argv in (
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-U", "pip"],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", spec],
        ):
            r = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT)
            if r.returncode:
                sys.exit(f"error: {shlex.join(argv)} failed; see {runner_log}")
    marker.write_text(spec + "\n")
    return str(dvc)


def install_gitml_venv(workdir: Path, runner_log: Path) -> str:
    """gitml as a user installs it (a built wheel, byte-compiled by pip, no editable-import
    hook) into `.bench/gitml-venv`, like DVC in its own venv. Re-installed from this
    checkout on every run; dependencies are installed once."""
    venv = workdir / "gitml-venv"
    python = str(venv / "bin" / "python")
    steps = []
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        steps += [
            [python, "-m", "pip", "install", "-q", "-U", "pip"],
            [python, "-m", "pip", "install", "-q", str(REPO_ROOT)],
        ]
    steps.append(
        [python, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(REPO_ROOT)]
    )
    log(f"installing gitml from {REPO_ROOT} into {venv} (log: {runner_log}) ...")
    with open(runner_log, "ab") as fh:
        for argv in steps:
            r = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT)
            if r.returncode:
                sys.exit(f"error: {shlex.join(argv)} failed; see {runner_log}")
    return str(venv / "bin" / "gitml")


def find_gitml(explicit: str | None) -> str | None:
    if explicit:
        p = shutil.which(explicit) or explicit
        return p if os.path.exists(p) else None
    cands = [
        Path(sys.executable).parent / "gitml",
        shutil.which("gitml"),
        REPO_ROOT / ".venv" / "bin" / "gitml",
    ]
    for c in cands:
        if c and os.path.exists(c):
            return str(c)
    return None


def compile_bytecode(exe: str) -> None:
    """Byte-compile the gitml package the executable runs, as `pip install` does (DVC's venv
    has its .pyc files): an editable install under PYTHONDONTWRITEBYTECODE=1 would
    otherwise recompile gitml's modules on every start."""
    python = Path(exe).parent / "python"
    if not python.exists():
        return
    where = subprocess.run(
        [str(python), "-c", "import gitml, os; print(os.path.dirname(gitml.__file__))"],
        capture_output=True,
        text=True,
    )
    if where.returncode == 0 and where.stdout.strip():
        subprocess.run([str(python), "-m", "compileall", "-q", where.stdout.strip()], check=False)


# --------------------------------------------------------------------------------------
# remotes: a local folder, or S3 on a moto server started by the harness


# Dummy credentials and no lookups off this machine (no IMDS, no ~/.aws), for both tools.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/gitml-bench-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/gitml-bench-aws-credentials",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
S3_ENV_UNSET = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")

# One werkzeug access-log line per request, e.g.
#   127.0.0.1 - - [22/Nov/2026 16:08:42] "PUT /bkt/a/b HTTP/1.1" 200 -
# (the request part may be wrapped in ANSI colour codes for 3xx/4xx/5xx).
_ACCESS_LINE = re.compile(rb'\] "(?:\x1b\[[0-9;]*m)?([A-Z]+) \S+ HTTP/[0-9.]+(?:\x1b\[0m)?" \d{3} ')
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_moto_python(explicit: str | None, gitml_exe: str | None) -> str | None:
    """A Python that can run ``moto.server`` (gitml's test extra installs moto[server])."""
    cands = [explicit] if explicit else [sys.executable]
    if not explicit and gitml_exe:
        cands.append(str(Path(gitml_exe).parent / "python"))
    if not explicit:
        cands.append(str(REPO_ROOT / ".venv" / "bin" / "python"))
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        ok = subprocess.run(
            [c, "-c", "import moto.server, flask"], capture_output=True, timeout=120
        ).returncode
        if ok == 0:
            return c
    return None


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1 in its own process group.

    Requests are counted from the server's access log: werkzeug writes one line per request
    to stderr, which goes to ``log_path``. ``mark()`` waits until the log has stopped
    growing and returns its size, so the lines between two marks are the requests served
    in between. The harness's own requests (bucket creation, listing, reset) happen outside
    the marked windows.
    """

    def __init__(self, python: str, log_path: Path) -> None:
        self.python = python
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        # Never through a proxy: loopback only.
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self) -> None:
        log(f"starting moto server on {self.url} (log: {self.log_path})")
        with open(self.log_path, "ab") as fh:
            self.proc = subprocess.Popen(
                [self.python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"moto server exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                self.request("GET", "/moto-api/")
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BenchError(
                        f"moto server did not start in 60s; see {self.log_path}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def request(self, method: str, path: str, data: bytes | None = None) -> bytes:
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with self._http.open(req, timeout=120) as resp:
            body: bytes = resp.read()
            return body

    def create_bucket(self, name: str) -> None:
        self.request("PUT", f"/{name}")

    def reset(self) -> None:
        """Drop every bucket (moto keeps objects in memory and temp files)."""
        self.request("POST", "/moto-api/reset")

    def usage(self, bucket: str, prefix: str) -> tuple[int, int]:
        """(bytes, objects) under ``prefix`` via ListObjectsV2 (unsigned; moto allows it)."""
        total = count = 0
        token: str | None = None
        while True:
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                q["continuation-token"] = token
            root = ET.fromstring(self.request("GET", f"/{bucket}?{urllib.parse.urlencode(q)}"))
            for item in root.iter(f"{_S3_NS}Contents"):
                total += int(item.findtext(f"{_S3_NS}Size") or 0)
                count += 1
            if root.findtext(f"{_S3_NS}IsTruncated") != "true":
                return total, count
            token = root.findtext(f"{_S3_NS}NextContinuationToken")

    def mark(self) -> int:
        """Wait until the access log stops growing (werkzeug logs just after it answers)."""
        deadline = time.monotonic() + 15
        size = self.log_path.stat().st_size
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.log_path.stat().st_size
            if now == size:
                break
            size = now
        return size

    def count(self, start: int, end: int) -> dict[str, int]:
        with open(self.log_path, "rb") as fh:
            fh.seek(start)
            text = fh.read(end - start)
        by_method: dict[str, int] = {}
        for m in _ACCESS_LINE.finditer(text):
            method = m.group(1).decode()
            by_method[method] = by_method.get(method, 0) + 1
        return by_method


class Remote:
    """Where remote scenarios push to. ``new(run_dir)`` makes a fresh, empty remote."""

    kind = "remote"

    def new(self, run_dir: Path) -> str:
        raise NotImplementedError

    def configure(self, tool: Tool, name: str, url: str) -> list[list[str]]:
        return [tool.remote_add(name, url)]

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return env

    def usage(self, url: str) -> tuple[int, int]:
        raise NotImplementedError

    def discard(self, url: str) -> None:
        """Free the remote's storage once the repo that used it is done."""

    @property
    def server(self) -> MotoServer | None:
        return None


class FolderRemote(Remote):
    kind = "folder"

    def new(self, run_dir: Path) -> str:
        path = run_dir / "remote"
        path.mkdir()  # exists and is empty, for both tools
        return str(path)

    def usage(self, url: str) -> tuple[int, int]:
        total = count = 0
        for dirpath, _dirs, files in os.walk(url):
            for f in files:
                total += os.lstat(os.path.join(dirpath, f)).st_size
                count += 1
        return total, count


class S3Remote(Remote):
    kind = "s3"
    PREFIX = "store"

    def __init__(self, moto: MotoServer) -> None:
        self.moto = moto

    @property
    def server(self) -> MotoServer | None:
        return self.moto

    def new(self, run_dir: Path) -> str:
        bucket = f"bench-{uuid.uuid4().hex[:16]}"
        self.moto.create_bucket(bucket)
        return f"s3://{bucket}/{self.PREFIX}"

    def configure(self, tool: Tool, name: str, url: str) -> list[list[str]]:
        return [tool.remote_add(name, url), tool.remote_endpoint(name, self.moto.url)]

    def env(self, env: dict[str, str]) -> dict[str, str]:
        env = dict(env)
        for k in S3_ENV_UNSET:
            env.pop(k, None)
        env.update(S3_ENV)
        return env

    def usage(self, url: str) -> tuple[int, int]:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return self.moto.usage(bucket, prefix + "/")

    def discard(self, url: str) -> None:
        # Every repo gets its own bucket and scenarios run one at a time, so dropping
        # all of moto's state frees this remote (objects of 1 GiB pile up otherwise).
        with contextlib.suppress(OSError):
            self.moto.reset()


# --------------------------------------------------------------------------------------
# repo states and scenarios


class State(IntEnum):
    REPO = 0  # fresh git repo, one empty commit
    INIT = 1  # tool initialised (+ link config), committed
    DATA = 2  # workload copied into data/
    ADDED = 3  # data added, pointer files committed, nothing changed
    REMOTE = 4  # an empty remote configured as the default (remote scenarios), committed
    PUSHED = 5  # everything pushed to it


@dataclass
class Ctx:
    tool: Tool
    workload: Workload
    workdir: Path
    repo: Path
    env: dict[str, str]
    runner: Runner
    link: str
    run_dir: Path
    keep: bool = False
    remote: Remote | None = None  # set for remote scenarios
    remote_url: str | None = None  # set once State.REMOTE is reached
    usage: tuple[int, int] | None = None  # what the remote held after the last measure

    def run(self, argv: list[str], timed: bool = False) -> Sample:
        return self.runner.run(argv, self.repo, self.env, timed=timed)

    @property
    def clone(self) -> Path:
        return self.run_dir / "clone"

    def clone_env(self) -> dict[str, str]:
        env = self.tool.env(self.run_dir / "clone-env")  # e.g. DVC's site cache: cold
        return self.remote.env(env) if self.remote else env


class Op(NamedTuple):
    """A timed command: row label, argv, whether it is compared across tools, and where
    it runs (default: the repo, with the session's environment)."""

    label: str
    argv: list[str]
    compared: bool = True
    cwd: Path | None = None
    env: dict[str, str] | None = None


@dataclass
class Scenario:
    """A timed operation.

    ``needs``: repo state required before ``pre``; ``exact`` means a repo further along
    is not acceptable (a fresh one is prepared instead). ``ops`` returns the timed commands
    as ``Op``s or (row label, argv, compared); ``post`` runs untimed afterwards and yields
    the state. ``remote`` scenarios run once per ``--remotes`` kind; ``measure_remote``
    records the remote's bytes/files after each command; ``total`` adds a row with the
    sum of the ops' times (and the max of their peaks) per rep.
    """

    name: str
    help: str
    needs: State
    ops: Callable[[Ctx], list[Op] | list[tuple[str, list[str], bool]]]
    exact: bool = False
    pre: Callable[[Ctx], None] | None = None
    post: Callable[[Ctx], None] | None = None
    result: State | None = None  # state after the scenario (default: unchanged)
    remote: bool = False
    measure_remote: bool = False
    total: str | None = None
    workloads: tuple[str, ...] = ()  # only these workloads (default: all)


def _git(ctx: Ctx, *args: str) -> None:
    ctx.runner.run(["git", *args], ctx.repo, ctx.env)


def step_repo(ctx: Ctx) -> None:
    _git(ctx, "init", "-q", "-b", "main")
    _git(ctx, "config", "user.name", "gitml bench")
    _git(ctx, "config", "user.email", "bench@example.invalid")
    _git(ctx, "config", "commit.gpgsign", "false")
    _git(ctx, "commit", "-q", "--allow-empty", "-m", "empty")


def after_init(ctx: Ctx) -> None:
    if ctx.link != "default":
        for argv in ctx.tool.configure_link(ctx.repo, ctx.link):
            ctx.run(argv)
    commit_all(ctx, f"{ctx.tool.name} init")


def step_data(ctx: Ctx) -> None:
    copy_workload(ctx.workload.ensure(ctx.workdir), ctx.repo)


def commit_all(ctx: Ctx, msg: str) -> None:
    """Commit what the tool wrote, refusing to commit the workload itself into git."""
    out = (
        subprocess.run(
            ["git", "ls-files", "-z", "--others", "--modified", "--exclude-standard"],
            cwd=ctx.repo,
            env=ctx.env,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    data = set(ctx.workload.manifest(ctx.workdir)) if (ctx.repo / "data").exists() else set()
    leaked = [p for p in out if p in data]
    if leaked:
        raise BenchError(
            f"{ctx.tool.name} left {len(leaked)} workload file(s) un-ignored by git after add "
            f"(e.g. {leaked[0]}); refusing to commit data into git"
        )
    _git(ctx, "add", "-A")
    _git(ctx, "commit", "-q", "--allow-empty", "-m", msg)


def remove_target(ctx: Ctx) -> None:
    rmtree(ctx.repo / ctx.workload.target)


def step_init(ctx: Ctx) -> None:
    ctx.run(ctx.tool.init())
    after_init(ctx)


def step_add(ctx: Ctx) -> None:
    ctx.run(ctx.tool.add(ctx.workload.target))
    commit_all(ctx, "add data")


REMOTE_NAME = "storage"


def step_remote(ctx: Ctx) -> None:
    if ctx.remote is None:
        raise BenchError("internal: a remote state without a remote")
    ctx.remote_url = ctx.remote.new(ctx.run_dir)
    for argv in ctx.remote.configure(ctx.tool, REMOTE_NAME, ctx.remote_url):
        ctx.run(argv)
    commit_all(ctx, f"remote {ctx.remote.kind}")


def step_push(ctx: Ctx) -> None:
    ctx.run(ctx.tool.push())


# Untimed steps that take a repo from the previous state to the keyed one.
STEPS: dict[State, Callable[[Ctx], None]] = {
    State.REPO: step_repo,
    State.INIT: step_init,
    State.DATA: step_data,
    State.ADDED: step_add,
    State.REMOTE: step_remote,
    State.PUSHED: step_push,
}

SCENARIOS: dict[str, Scenario] = {}


def register(s: Scenario) -> Scenario:
    SCENARIOS[s.name] = s
    return s


register(
    Scenario(
        "version",
        "`TOOL --version`: interpreter + CLI start-up cost",
        State.REPO,
        lambda c: [("--version", c.tool.version(), True)],
    )
)
register(
    Scenario(
        "init",
        "`TOOL init` in a fresh git repo",
        State.REPO,
        exact=True,
        ops=lambda c: [("init", c.tool.init(), True)],
        post=after_init,
        result=State.INIT,
    )
)
register(
    Scenario(
        "add",
        "`TOOL add <target>`: hash + store the workload in the cache",
        State.DATA,
        exact=True,
        ops=lambda c: [("add", c.tool.add(c.workload.target), True)],
        post=lambda c: commit_all(c, "add data"),
        result=State.ADDED,
    )
)
register(
    Scenario(
        "status",
        "`TOOL status` right after add+commit, nothing changed",
        State.ADDED,
        lambda c: [(label, argv, i == 0) for i, (label, argv) in enumerate(c.tool.status())],
    )
)
register(
    Scenario(
        "add-again",
        "`TOOL add <target>` again right after add+commit, nothing changed",
        State.ADDED,
        lambda c: [("add (nothing changed)", c.tool.add(c.workload.target), True)],
    )
)
register(
    Scenario(
        "checkout",
        "`TOOL checkout` after `rm -rf` of the target",
        State.ADDED,
        lambda c: [("checkout", c.tool.checkout(), True)],
        pre=remove_target,
        post=lambda c: verify_restored(c.workload, c.workdir, c.repo),
    )
)


# Pipelines: three stages over the workload target whose commands take milliseconds, so
# the timings are each tool's own work (hashing, staleness checks, caching, lock file).
PIPELINE = """\
stages:
  prepare:
    cmd: ls -l {target} > prepared.txt
    deps:
    - {target}
    outs:
    - prepared.txt
  featurize:
    cmd: cp prepared.txt features.txt
    deps:
    - prepared.txt
    outs:
    - features.txt
  train:
    cmd: cat params.yaml features.txt > model.txt
    deps:
    - features.txt
    params:
    - train.lr
    outs:
    - model.txt
"""
_param_values = iter(range(1, 1_000_000))


def setup_pipeline(ctx: Ctx) -> None:
    """Untimed: write the pipeline and params, run it once, commit."""
    path = ctx.repo / ctx.tool.pipeline_file
    if path.exists():
        return
    path.write_text(PIPELINE.format(target=ctx.workload.target))
    (ctx.repo / "params.yaml").write_text("train:\n  lr: 0\n")
    ctx.run(ctx.tool.repro())
    commit_all(ctx, "pipeline")


def edit_param(ctx: Ctx) -> None:
    """Untimed: a new value of the param only the last stage uses (never seen before, so
    neither tool's run-cache can answer)."""
    setup_pipeline(ctx)
    (ctx.repo / "params.yaml").write_text(f"train:\n  lr: {next(_param_values)}\n")


def check_param_ran(ctx: Ctx) -> None:
    model = (ctx.repo / "model.txt").read_text()
    want = (ctx.repo / "params.yaml").read_text()
    if not model.startswith(want):
        raise BenchError("repro after the param edit did not rerun the last stage")
    commit_all(ctx, "param edit")


register(
    Scenario(
        "repro-noop",
        "`TOOL repro` on an up-to-date 3-stage pipeline over the target",
        State.ADDED,
        lambda c: [("repro (nothing to do)", c.tool.repro(), True)],
        pre=setup_pipeline,
    )
)
register(
    Scenario(
        "repro-param",
        "`TOOL repro` after editing a param used by the last of 3 stages",
        State.ADDED,
        lambda c: [("repro after a param edit", c.tool.repro(), True)],
        pre=edit_param,
        post=check_param_ran,
    )
)


# Remotes. Each rep: a fresh repo with the data added and committed, and a fresh, empty
# remote (a folder, or a new bucket on the moto server) set as the tool's default remote
# in its tracked config, so that a `git clone` of the repo knows it too.


def check_remote_full(ctx: Ctx) -> None:
    """After the first push the remote holds at least every byte of the workload."""
    want = sum(ctx.workload.manifest(ctx.workdir).values())
    have = ctx.usage[0] if ctx.usage else 0
    if have < want:
        raise BenchError(f"after push the remote holds {have} bytes < the workload's {want}")


def prepare_clone(ctx: Ctx) -> None:
    discard_tree(ctx.clone, ctx.workload.many_files)
    rmtree(ctx.run_dir / "clone-env")
    (ctx.run_dir / "clone-env").mkdir()


def check_clone(ctx: Ctx) -> None:
    verify_restored(ctx.workload, ctx.workdir, ctx.clone)
    if not ctx.keep:
        discard_tree(ctx.clone, ctx.workload.many_files)


register(
    Scenario(
        "push",
        "`TOOL push` of everything to an empty remote",
        State.REMOTE,
        exact=True,
        ops=lambda c: [Op("push", c.tool.push())],
        post=check_remote_full,
        result=State.PUSHED,
        remote=True,
        measure_remote=True,
    )
)
register(
    Scenario(
        "push-again",
        "`TOOL push` again, everything already on the remote",
        State.PUSHED,
        lambda c: [Op("push (nothing to do)", c.tool.push())],
        remote=True,
        measure_remote=True,
    )
)
register(
    Scenario(
        "status-remote",
        "`gitml status --remote` / `dvc status -c` (+ `dvc data status --not-in-remote`), "
        "everything pushed",
        State.PUSHED,
        lambda c: [
            Op(label, argv, i == 0) for i, (label, argv) in enumerate(c.tool.remote_status())
        ],
        remote=True,
    )
)


def edit_big_file(ctx: Ctx, insert: bool) -> None:
    """Untimed: change 1 MiB of the big file (overwrite its middle, or insert at its start),
    record it with the tool and commit; note what the remote holds now."""
    path = ctx.repo / ctx.workload.target
    patch = random.Random(ctx.workload.seed + (2 if insert else 1)).randbytes(MiB)
    size = path.stat().st_size
    tmp = path.with_name(path.name + ".bench-edit")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        if insert:
            dst.write(patch)
            shutil.copyfileobj(src, dst, BLOCK)
        else:
            middle = (size // 2) - MiB // 2
            left = middle
            while left > 0:
                chunk = src.read(min(BLOCK, left))
                dst.write(chunk)
                left -= len(chunk)
            dst.write(patch)
            src.seek(middle + MiB)
            shutil.copyfileobj(src, dst, BLOCK)
    os.replace(tmp, path)  # a new inode: never writes through a link into a cache
    ctx.run(ctx.tool.add(ctx.workload.target))
    commit_all(ctx, "edit big file")
    if ctx.remote and ctx.remote_url:
        ctx.usage = ctx.remote.usage(ctx.remote_url)


register(
    Scenario(
        "pull-fresh",
        "`git clone` of the repo, then `TOOL pull` in the clone (both timed, and their sum)",
        State.PUSHED,
        lambda c: [
            Op("git clone (for pull)", ["git", "clone", "-q", str(c.repo), str(c.clone)]),
            Op("pull (fresh clone)", c.tool.pull(), cwd=c.clone, env=c.clone_env()),
        ],
        pre=prepare_clone,
        post=check_clone,
        remote=True,
        total="clone + pull",
    )
)
register(
    Scenario(
        "push-overwrite",
        "`TOOL add` + commit after overwriting 1 MiB in the middle of the big file (untimed), "
        "then `TOOL push` (timed; the remote's added MiB shown)",
        State.PUSHED,
        lambda c: [Op("push after a 1 MiB overwrite", c.tool.push())],
        pre=lambda c: edit_big_file(c, insert=False),
        remote=True,
        measure_remote=True,
        workloads=("bigfile",),
    )
)
register(
    Scenario(
        "push-insert",
        "the same after inserting 1 MiB at the start of the big file",
        State.PUSHED,
        lambda c: [Op("push after a 1 MiB insert", c.tool.push())],
        pre=lambda c: edit_big_file(c, insert=True),
        remote=True,
        measure_remote=True,
        workloads=("bigfile",),
    )
)


def edit_ten_files(ctx: Ctx) -> None:
    """Untimed: overwrite 10 files spread evenly over the directory (new random bytes), add
    the directory again, commit; note what the remote holds now."""
    files = sorted(p for p in (ctx.repo / ctx.workload.target).rglob("*") if p.is_file())
    rng = random.Random(ctx.workload.seed + 3 + len(ctx.run_dir.name))
    for path in files[len(files) // 20 :: max(1, len(files) // 10)][:10]:
        size = path.stat().st_size
        path.unlink()  # a new inode: never writes through a link into a cache
        path.write_bytes(rng.randbytes(size))
    ctx.run(ctx.tool.add(ctx.workload.target))
    commit_all(ctx, "edit 10 files")
    if ctx.remote and ctx.remote_url:
        ctx.usage = ctx.remote.usage(ctx.remote_url)


register(
    Scenario(
        "push-edit-files",
        "`TOOL add` + commit after overwriting 10 files spread over the 20k-file directory "
        "(untimed), then `TOOL push` (timed; the remote's added MiB shown)",
        State.PUSHED,
        lambda c: [Op("push after editing 10 files", c.tool.push())],
        pre=edit_ten_files,
        remote=True,
        measure_remote=True,
        workloads=("manyfiles",),
    )
)

# The 3-stage pipeline of the repro rows, except that the last stage's out is as large as
# the target (a "model" that embeds the data), run for three values of the param: two runs
# are superseded, as after a morning of tuning. DVC pushes the outs of its lock file only
# (`dvc push` sends the run-cache with `--run-cache`); gitml also sends its run-cache.
PIPELINE_BIG = (
    PIPELINE.replace(
        "cmd: cat params.yaml features.txt > model.txt",
        "cmd: cat params.yaml features.txt {target} > model.bin",
    )
    .replace("    - model.txt\n", "    - model.bin\n")
    .replace("    deps:\n    - features.txt\n", "    deps:\n    - features.txt\n    - {target}\n")
)


def setup_big_pipeline(ctx: Ctx) -> None:
    """Untimed: write the pipeline, run it for lr = 1, 2, 3 (commit each), then the timed
    push starts from an empty remote."""
    path = ctx.repo / ctx.tool.pipeline_file
    path.write_text(PIPELINE_BIG.format(target=ctx.workload.target))
    for lr in (1, 2, 3):
        (ctx.repo / "params.yaml").write_text(f"train:\n  lr: {lr}\n")
        ctx.run(ctx.tool.repro())
        commit_all(ctx, f"pipeline lr={lr}")


register(
    Scenario(
        "push-pipeline",
        "`TOOL push` to an empty remote after 3 runs of a 3-stage pipeline whose last out is "
        "as large as the target (the remote's MiB shown)",
        State.REMOTE,
        exact=True,
        ops=lambda c: [Op("push after 3 pipeline runs", c.tool.push())],
        pre=setup_big_pipeline,
        remote=True,
        measure_remote=True,
        workloads=("bigfile",),
    )
)


# --------------------------------------------------------------------------------------
# driver


@dataclass
class OpResult:
    tool: str
    workload: str
    scenario: str
    op: str
    compared: bool
    argv: list[str]
    remote: str | None = None  # remote kind for remote scenarios
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    def median(self, attr: str) -> float | None:
        vals = [v for s in self.samples if (v := getattr(s, attr)) is not None]
        return statistics.median(vals) if vals else None

    @property
    def median_s(self) -> float | None:
        return self.median("seconds")

    @property
    def median_peak(self) -> float | None:
        return self.median("peak_rss_mib")


class RepoSession:
    """A scratch repo for one (tool, workload, rep), advanced through ``State``s."""

    def __init__(
        self,
        tool: Tool,
        workload: Workload,
        args: argparse.Namespace,
        runner: Runner,
        tmp_root: Path,
        remote: Remote | None = None,
    ) -> None:
        self.tool, self.workload, self.args, self.runner = tool, workload, args, runner
        self.tmp_root = tmp_root
        self.remote = remote
        self.ctx: Ctx | None = None
        self.state: State | None = None

    def fresh(self) -> Ctx:
        self.close()
        run_dir = Path(
            tempfile.mkdtemp(prefix=f"{self.tool.name}-{self.workload.name}-", dir=self.tmp_root)
        )
        repo = run_dir / "repo"
        repo.mkdir()
        env = self.tool.env(run_dir)
        self.ctx = Ctx(
            self.tool,
            self.workload,
            self.args.workdir,
            repo,
            self.remote.env(env) if self.remote else env,
            self.runner,
            self.args.link,
            run_dir,
            keep=self.args.keep,
            remote=self.remote,
        )
        self.state = None
        return self.ctx

    def reach(self, needs: State, exact: bool) -> Ctx:
        if self.ctx is None or self.state is None or (exact and self.state > needs):
            self.fresh()
            STEPS[State.REPO](self.ctx)  # type: ignore[arg-type]
            self.state = State.REPO
        assert self.ctx is not None and self.state is not None
        while self.state < needs:
            nxt = State(self.state + 1)
            STEPS[nxt](self.ctx)
            self.state = nxt
        return self.ctx

    def invalidate(self) -> None:
        self.state = None

    def close(self) -> None:
        if self.ctx is not None:
            if self.remote and self.ctx.remote_url and not self.args.keep:
                self.remote.discard(self.ctx.remote_url)
            if not self.args.keep:
                discard_tree(self.ctx.run_dir, self.workload.many_files)
        self.ctx = None


def bench_tool_workload(
    tool: Tool,
    workload: Workload,
    scenarios: list[Scenario],
    remotes: list[Remote],
    args: argparse.Namespace,
    log_dir: Path,
) -> list[OpResult]:
    """Every rep: the local scenarios in one repo, then the remote scenarios once per remote
    kind, each in a fresh repo with a fresh remote."""
    runner = Runner(log_dir / f"{tool.name}-{workload.name}.log", args.timeout, args.drop_caches)
    tmp_root = args.workdir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, str, str | None], OpResult] = {}
    failed: set[tuple[str, str | None]] = set()
    local = [s for s in scenarios if not s.remote]
    remote = [s for s in scenarios if s.remote]
    groups: list[tuple[list[Scenario], Remote | None]] = []
    if local:
        groups.append((local, None))
    if remote:
        groups += [(remote, r) for r in remotes]

    def result(sc: Scenario, op: Op, kind: str | None) -> OpResult:
        key = (sc.name, op.label, kind)
        if key not in results:
            results[key] = OpResult(
                tool.name, workload.name, sc.name, op.label, op.compared, op.argv, kind
            )
        return results[key]

    def timed(ctx: Ctx, op: Op) -> Sample:
        moto = ctx.remote.server if ctx.remote else None
        mark = moto.mark() if moto else 0
        smp = runner.run(op.argv, op.cwd or ctx.repo, op.env or ctx.env, timed=True)
        if moto:
            by_method = moto.count(mark, moto.mark())
            smp.s3_requests, smp.s3_by_method = sum(by_method.values()), by_method
        return smp

    for rep in range(1, args.reps + 1):
        for group, rem in groups:
            kind = rem.kind if rem else None
            session = RepoSession(tool, workload, args, runner, tmp_root, rem)
            try:
                for sc in group:
                    if (sc.name, kind) in failed:
                        continue
                    if sc.workloads and workload.name not in sc.workloads:
                        continue
                    where = (
                        f"[{tool.name}/{workload.name}{'/' + kind if kind else ''}] "
                        f"rep {rep}/{args.reps} {sc.name}"
                    )
                    phase = "setup"
                    try:
                        ctx = session.reach(sc.needs, sc.exact)
                        if sc.pre:
                            sc.pre(ctx)
                        ops = [Op(*o) for o in sc.ops(ctx)]
                        phase = "timed command"
                        done: list[Sample] = []
                        for op in ops:
                            r = result(sc, op, kind)
                            before = ctx.usage
                            smp = timed(ctx, op)
                            if sc.measure_remote and ctx.remote and ctx.remote_url:
                                ctx.usage = ctx.remote.usage(ctx.remote_url)
                                smp.remote_bytes, smp.remote_files = ctx.usage
                                if before is not None:
                                    smp.remote_added = ctx.usage[0] - before[0]
                            r.samples.append(smp)
                            done.append(smp)
                            extra = "".join(
                                [
                                    f"  {smp.s3_requests} S3 requests {smp.s3_by_method}"
                                    if smp.s3_requests is not None
                                    else "",
                                    f"  remote {smp.remote_bytes / MiB:.1f} MiB in "
                                    f"{smp.remote_files} files"
                                    if smp.remote_bytes is not None
                                    else "",
                                ]
                            )
                            log(
                                f"{where}: {op.label}: {smp.seconds:.3f}s  "
                                f"peak {smp.peak_rss_mib:.0f} MiB{extra}"
                            )
                        if sc.total:
                            r = result(sc, Op(sc.total, []), kind)
                            r.samples.append(
                                Sample(
                                    sum(x.seconds for x in done),
                                    max(x.peak_rss_mib for x in done),
                                    sum(x.user_s for x in done),
                                    sum(x.sys_s for x in done),
                                    done[-1].load1,
                                    s3_requests=None
                                    if any(x.s3_requests is None for x in done)
                                    else sum(x.s3_requests or 0 for x in done),
                                )
                            )
                        phase = "after-check"
                        if sc.post:
                            sc.post(ctx)
                        if sc.result is not None:
                            session.state = sc.result
                    except (BenchError, OSError) as e:
                        # Abort this scenario for this tool/workload/remote (remaining reps
                        # too); the repo is in an unknown state, so later scenarios get a
                        # fresh one.
                        failed.add((sc.name, kind))
                        session.invalidate()
                        log(f"\n!!! {where} ABORTED in {phase}: {e}\n")
                        first = f"{phase} failed: {str(e).splitlines()[0]}"
                        if session.ctx:
                            for o in sc.ops(session.ctx):
                                result(sc, Op(*o), kind).error = first
                        if sc.total:
                            result(sc, Op(sc.total, []), kind).error = first
            finally:
                session.close()
    return list(results.values())


# --------------------------------------------------------------------------------------
# --limits: what the machine itself takes on the same data, in the same run


# Hash every file of a tree with BLAKE3 on one thread, 1 MiB reads (what `add` must read).
LIMIT_HASH = """\
import os, sys, blake3
for top, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        h = blake3.blake3()
        with open(os.path.join(top, name), "rb") as f:
            while b := f.read(1 << 20):
                h.update(b)
"""
# The stat walk every no-op status must do: scandir + lstat of each entry, in Python.
LIMIT_WALK = """\
import os, sys, stat
stack = [sys.argv[1]]
n = 0
while stack:
    with os.scandir(stack.pop()) as it:
        for e in it:
            if stat.S_ISDIR(e.stat(follow_symlinks=False).st_mode):
                stack.append(e.path)
            else:
                n += 1
"""
LIMIT_OPS = (
    "blake3, one thread",
    "cp -r",
    "blake3 one thread + cp (sum)",
    "git status --porcelain (data in git)",
    "scandir+stat walk (Python)",
)
# (gitml operation, the limit it is held to, target ratio from issue 20)
LIMIT_TARGETS = (
    ("add", "blake3 one thread + cp (sum)", 1.2),
    ("status", "git status --porcelain (data in git)", 2.0),
    ("add (nothing changed)", "git status --porcelain (data in git)", 2.0),
    ("status", "scandir+stat walk (Python)", None),
)


def limits_python(gitml_exe: str | None) -> str:
    """A Python with blake3: the one beside gitml, else this one."""
    if gitml_exe:
        beside = Path(gitml_exe).parent / "python"
        if beside.exists():
            return str(beside)
    return sys.executable


def bench_limits(
    workload: Workload, args: argparse.Namespace, log_dir: Path, python: str
) -> list[OpResult]:
    """Per rep, on a fresh copy of the workload: hash it (one thread), copy it, and for
    many files, `git status` with the files committed to git and a stat walk."""
    runner = Runner(log_dir / f"limits-{workload.name}.log", args.timeout, args.drop_caches)
    src = workload.ensure(args.workdir)
    results = {op: OpResult("limits", workload.name, "limits", op, True, []) for op in LIMIT_OPS}
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@e",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@e"}  # fmt: skip
    tmp_root = args.workdir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    for rep in range(1, args.reps + 1):
        run_dir = Path(tempfile.mkdtemp(prefix=f"limits-{workload.name}-", dir=tmp_root))
        try:
            repo = run_dir / "repo"
            repo.mkdir()
            copy_workload(src, repo)
            data = repo / "data"

            def timed(op: str, argv: list[str], cwd: Path = repo, rep: int = rep) -> Sample:
                smp = runner.run(argv, cwd, env, timed=True)
                results[op].argv = argv
                results[op].samples.append(smp)
                log(f"[limits/{workload.name}] rep {rep}/{args.reps} {op}: {smp.seconds:.3f}s")
                return smp

            hashed = timed("blake3, one thread", [python, "-c", LIMIT_HASH, str(data)])
            copied = timed("cp -r", ["cp", "-r", str(data), str(run_dir / "copy")])
            peak = max(hashed.peak_rss_mib, copied.peak_rss_mib)
            results["blake3 one thread + cp (sum)"].samples.append(
                Sample(hashed.seconds + copied.seconds, peak, 0.0, 0.0, copied.load1)
            )
            if workload.many_files:
                for git_args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "data"]):
                    runner.run(["git", *git_args], repo, env)
                timed("git status --porcelain (data in git)", ["git", "status", "--porcelain"])
                timed("scandir+stat walk (Python)", [python, "-c", LIMIT_WALK, str(data)])
        except BenchError as e:
            log(f"\n!!! [limits/{workload.name}] rep {rep} ABORTED: {e}\n")
            for r in results.values():
                r.error = r.error or str(e).splitlines()[0]
            break
        finally:
            if not args.keep:
                discard_tree(run_dir, workload.many_files)
    return [r for r in results.values() if r.samples or r.error]


def limits_table(workload: Workload, results: list[OpResult]) -> str:
    """gitml's rows next to the machine's limits measured on the same data."""
    mine = [r for r in results if r.workload == workload.name]
    gitml = {r.op: r for r in mine if r.tool == "gitml" and r.remote is None}
    limits = {r.op: r for r in mine if r.tool == "limits"}
    lines = [
        "| gitml operation | gitml s | limit | limit s | gitml/limit | target |",
        "|---|---|---|---|---|---|",
    ]
    for op, limit, goal in LIMIT_TARGETS:
        # issue 20 holds the add of one big file to hash + copy; many small files pay per file
        target = None if op == "add" and workload.many_files else goal
        g, lim = gitml.get(op), limits.get(limit)
        if g is None or lim is None or g.median_s is None or not lim.median_s:
            continue
        lines.append(
            f"| {op} | {g.median_s:.3f} | {limit} | {lim.median_s:.3f} | "
            f"{g.median_s / lim.median_s:.2f}x | {f'<= {target}x' if target else '-'} |"
        )
    lines += ["", "| limit | s |", "|---|---|"]
    lines += [f"| {r.op} | {_fmt(r.median_s, '.3f')} |" for r in limits.values()]
    notes = [f"- limits `{r.op}`: {r.error}" for r in limits.values() if r.error]
    return "\n".join(lines + (["", *notes] if notes else []))


# --------------------------------------------------------------------------------------
# reporting


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _fmt_usage(r: OpResult | None) -> str:
    size, files = (r.median("remote_bytes"), r.median("remote_files")) if r else (None, None)
    if size is None:
        return "-"
    added = r.median("remote_added") if r else None
    return f"{size / MiB:.1f} ({files:.0f})" + ("" if added is None else f" +{added / MiB:.1f}")


def _fmt_requests(r: OpResult | None) -> str:
    n = r.median("s3_requests") if r else None
    return "-" if n is None else f"{n:.0f}"


def markdown_table(
    workload: Workload, results: list[OpResult], tools: list[str], remote: str | None = None
) -> str:
    """One table: the local scenarios (``remote=None``) or those against one remote kind."""
    rows: dict[str, dict[str, OpResult]] = {}
    order = list(SCENARIOS)
    mine = [
        r
        for r in results
        if r.workload == workload.name and r.remote == remote and r.tool != "limits"
    ]
    # Registry order, compared rows before informational ones within a scenario.
    for res in sorted(mine, key=lambda r: (order.index(r.scenario), not r.compared)):
        rows.setdefault(res.op, {})[res.tool] = res
    both = tools == ["gitml", "dvc"]
    extra: list[tuple[str, Callable[[OpResult | None], str]]] = []
    if remote:
        extra.append(("remote MiB (files) +added", _fmt_usage))
    if remote == "s3":
        extra.append(("S3 requests", _fmt_requests))
    head = ["operation"] + [f"{t} s" for t in tools]
    if both:
        head.append("gitml/dvc")
    head += [f"{t} peak MiB" for t in tools]
    head += [f"{t} {title}" for title, _ in extra for t in tools]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for op, by_tool in rows.items():
        cells = [op]
        for t in tools:
            r = by_tool.get(t)
            cells.append(
                "FAILED"
                if r and r.error and not r.samples
                else _fmt(r.median_s if r else None, ".3f")
            )
        if both:
            g, d = by_tool.get("gitml"), by_tool.get("dvc")
            ratio = None
            if g and d and g.median_s is not None and d.median_s and g.compared and d.compared:
                ratio = g.median_s / d.median_s
            cells.append(_fmt(ratio, ".2f") + ("x" if ratio is not None else ""))
        for t in tools:
            r = by_tool.get(t)
            cells.append(_fmt(r.median_peak if r else None, ".0f"))
        for _title, fmt in extra:
            cells += [fmt(by_tool.get(t)) for t in tools]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r.tool} `{r.op}`: {r.error}" for r in mine if r.error]
    return "\n".join(lines + (["", *notes] if notes else []))


def tool_version(tool: Tool, env_dir: Path) -> str:
    try:
        out = subprocess.run(
            tool.version(),
            capture_output=True,
            text=True,
            timeout=120,
            env=tool.env(env_dir),
            cwd=env_dir,
        )
        text = (out.stdout.strip() or out.stderr.strip()).splitlines()
        return text[0] if text and out.returncode == 0 else f"(exit {out.returncode}) {text}"
    except (OSError, subprocess.SubprocessError) as e:
        return f"(unavailable: {e})"


# --------------------------------------------------------------------------------------
# CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark gitml (and optionally DVC) on seeded workloads.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="scenarios: " + "; ".join(f"{s.name}: {s.help}" for s in SCENARIOS.values()),
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=REPO_ROOT / ".bench",
        help="scratch dir for workloads, venvs, repos and logs",
    )
    p.add_argument("--workloads", default="bigfile,manyfiles", help="comma list")
    p.add_argument("--only", default=",".join(SCENARIOS), help="comma list of scenarios to run")
    p.add_argument(
        "--remotes",
        default="folder,s3",
        help="comma list of remote kinds for the remote scenarios: folder, s3 (a moto server "
        "on 127.0.0.1 that the harness starts and stops)",
    )
    p.add_argument(
        "--moto-python",
        help="Python with moto[server] installed, for the s3 remote (default: this Python, "
        "the one next to the gitml executable, or <repo>/.venv/bin/python)",
    )
    p.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--big-size", default="1G", help="bigfile size, e.g. 64M, 1G")
    p.add_argument("--many-count", type=int, default=20_000, help="manyfiles file count")
    p.add_argument(
        "--link",
        default="default",
        choices=["default", "copy", "hardlink", "symlink", "reflink"],
        help="cache link type for both tools (default: each tool's own default)",
    )
    p.add_argument(
        "--gitml",
        help="gitml executable (default: next to sys.executable, "
        "on PATH, or <repo>/.venv/bin/gitml)",
    )
    p.add_argument(
        "--install-gitml",
        action="store_true",
        help="benchmark a regular (non-editable) install of this checkout in .bench/gitml-venv",
    )
    p.add_argument("--skip-gitml", action="store_true", help="benchmark DVC only")
    p.add_argument("--dvc", action="store_true", help="also benchmark DVC (own venv)")
    p.add_argument("--dvc-spec", default="dvc[s3]", help="pip requirement for the DVC venv")
    p.add_argument("--dvc-bin", help="use this dvc executable instead of the managed venv")
    p.add_argument(
        "--drop-caches",
        action="store_true",
        help="sync + drop the page cache before each timed command (needs root)",
    )
    p.add_argument("--timeout", type=float, default=3600, help="per-command timeout, s")
    p.add_argument("--json", type=Path, help="write raw per-rep results here")
    p.add_argument("--output", type=Path, help="also write the Markdown report here")
    p.add_argument("--keep", action="store_true", help="keep scratch repos (debugging)")
    p.add_argument(
        "--interleave",
        action="store_true",
        help="run rep 1 of every tool, then rep 2 of every tool, ... (instead of all reps of "
        "one tool, then the next): load from other work then skews every tool alike",
    )
    p.add_argument(
        "--limits",
        action="store_true",
        help="also time the machine's limits on the same data (blake3 one thread, cp, git "
        "status with the data in git, a scandir+stat walk) and compare gitml with them",
    )
    args = p.parse_args(argv)
    args.workdir = args.workdir.resolve()
    args.only_list = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.only_list if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    args.workload_list = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if bad := [w for w in args.workload_list if w not in ("bigfile", "manyfiles")]:
        p.error(f"unknown workload(s) {bad}")
    args.remote_list = [r.strip() for r in args.remotes.split(",") if r.strip()]
    if bad := [r for r in args.remote_list if r not in ("folder", "s3")]:
        p.error(f"unknown remote kind(s) {bad}; choose from folder, s3")
    if args.reps < 1:
        p.error("--reps must be >= 1")
    if args.skip_gitml and not (args.dvc or args.dvc_bin):
        p.error("--skip-gitml without --dvc leaves nothing to run")
    return args


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["exp"]:  # the experiments benchmark: scripts/bench_exp.py
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import bench_exp

        return bench_exp.main(raw[1:])
    args = parse_args(argv)
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = workdir / "logs" / stamp
    log_dir.mkdir(parents=True, exist_ok=True)

    tools: list[Tool] = []
    if not args.skip_gitml:
        if args.install_gitml:
            exe: str | None = install_gitml_venv(workdir, log_dir / "gitml-install.log")
        else:
            exe = find_gitml(args.gitml)
        if exe is None:
            sys.exit(
                "error: gitml executable not found (use --gitml PATH, install it with "
                "`pip install -e .` into the venv, or pass --skip-gitml)"
            )
        compile_bytecode(exe)
        tools.append(GitmlTool(exe))
    if args.dvc or args.dvc_bin:
        dvc = args.dvc_bin or ensure_dvc_venv(workdir, args.dvc_spec, log_dir / "dvc-install.log")
        tools.append(DvcTool(dvc, workdir / "dvc-config"))

    workloads: list[Workload] = []
    for name in args.workload_list:
        workloads.append(
            BigFile(parse_size(args.big_size), args.seed)
            if name == "bigfile"
            else ManyFiles(args.many_count, args.seed)
        )
    scenarios = [s for s in SCENARIOS.values() if s.name in args.only_list]

    moto: MotoServer | None = None
    remotes: list[Remote] = []
    if any(s.remote for s in scenarios):
        for kind in args.remote_list:
            if kind == "folder":
                remotes.append(FolderRemote())
                continue
            py = find_moto_python(args.moto_python, tools[0].exe if not args.skip_gitml else None)
            if py is None:
                sys.exit(
                    "error: no Python with moto[server] found for the s3 remote (install "
                    "gitml's test extra into .venv, pass --moto-python, or --remotes folder)"
                )
            moto = MotoServer(py, log_dir / "moto-server.log")
            remotes.append(S3Remote(moto))

    for w in workloads:
        if any(s.needs >= State.DATA for s in scenarios):
            w.ensure(workdir)

    env_dir = Path(tempfile.mkdtemp(dir=workdir))
    versions = {t.name: tool_version(t, env_dir) for t in tools}
    rmtree(env_dir)
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    cmdline = shlex.join(
        [sys.executable, *sys.argv] if argv is None else [sys.executable, __file__, *argv]
    )

    load_start = os.getloadavg()
    if load_start[0] > 0.5 * (os.cpu_count() or 1):
        log(
            f"warning: load average is {load_start[0]:.1f} on {os.cpu_count()} CPUs; "
            "timings will be noisy"
        )
    results: list[OpResult] = []
    try:
        if moto:
            moto.start()
        for w in workloads:
            rounds = (
                [(args.reps, "")]
                if not args.interleave
                else [(1, f" round {i + 1}") for i in range(args.reps)]
            )
            merged: dict[tuple[str, str, str, str, str | None], OpResult] = {}
            for reps, label in rounds:
                for t in tools:
                    log(
                        f"== {t.name} on {w.name} ({w.describe}), {reps} rep(s){label}; log: "
                        f"{log_dir / f'{t.name}-{w.name}.log'}"
                    )
                    part = bench_tool_workload(
                        t,
                        w,
                        scenarios,
                        remotes,
                        argparse.Namespace(**{**vars(args), "reps": reps}),
                        log_dir,
                    )
                    for r in part:
                        key = (r.tool, r.workload, r.scenario, r.op, r.remote)
                        if key in merged:
                            merged[key].samples += r.samples
                            merged[key].error = merged[key].error or r.error
                        else:
                            merged[key] = r
            results += merged.values()
            if args.limits:
                gitml_exe = None if args.skip_gitml else tools[0].exe
                log(f"== limits on {w.name}; log: {log_dir / f'limits-{w.name}.log'}")
                results += bench_limits(w, args, log_dir, limits_python(gitml_exe))
    finally:
        if moto:
            moto.stop()
        empty_trash()

    names = [t.name for t in tools]
    out = [
        f"# gitml benchmark ({stamp})",
        "",
        "```",
        f"$ {cmdline}",
        "```",
        "",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {git_version.strip()}",
        *(f"- {t.name}: `{t.exe}` -> {versions[t.name]}" for t in tools),
        f"- reps: {args.reps} (median shown), link type: {args.link}, "
        f"drop caches: {args.drop_caches}, seed: {args.seed}",
        f"- load average (1 min) at start/end: {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}"
        " (other work on the machine skews timings; per-command values are in --json)",
        f"- logs: {log_dir}",
    ]
    if remotes:
        out.append(
            "- remotes: "
            + "; ".join(
                f"`{r.kind}`: "
                + (
                    "a local folder on the same disk"
                    if r.server is None
                    else f"S3 on a moto server at {r.server.url}, a bucket per repo"
                )
                for r in remotes
            )
            + ". Each tool uses its default parallelism. `status --remote` is "
            "`gitml status --remote` vs `dvc status -c`. Remote MiB (files) is what the remote "
            "held after the command; S3 requests are counted in moto's access log."
        )
    for w in workloads:
        if any(r.workload == w.name and r.remote is None and r.tool != "limits" for r in results):
            out += [
                "",
                f"## {w.name}: {w.describe} (`{w.target}`)",
                "",
                markdown_table(w, results, names),
            ]
        if any(r.workload == w.name and r.tool == "limits" for r in results):
            out += [
                "",
                f"## {w.name}: gitml against the machine's limits, same data, same run",
                "",
                limits_table(w, results),
            ]
        for rem in remotes:
            if any(r.workload == w.name and r.remote == rem.kind for r in results):
                out += [
                    "",
                    f"## {w.name}: {w.describe} (`{w.target}`), {rem.kind} remote",
                    "",
                    markdown_table(w, results, names, rem.kind),
                ]
    report = "\n".join(out) + "\n"
    print(report)
    if args.output:
        args.output.write_text(report)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": cmdline,
                    "timestamp": stamp,
                    "versions": versions,
                    "args": {
                        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    },
                    "results": [
                        {
                            "tool": r.tool,
                            "workload": r.workload,
                            "remote": r.remote,
                            "scenario": r.scenario,
                            "op": r.op,
                            "argv": r.argv,
                            "compared": r.compared,
                            "error": r.error,
                            "median_s": r.median_s,
                            "median_peak_rss_mib": r.median_peak,
                            "reps": [vars(s) for s in r.samples],
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
