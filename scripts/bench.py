#!/usr/bin/env python3
"""Benchmark harness: gitml vs DVC on seeded, reproducible workloads.

Stdlib only. See scripts/README-bench.md for usage.

Layout
------
* ``Workload``   -- generates (once, cached) a seeded data set and copies it into a repo.
* ``Tool``       -- maps abstract operations (init/add/status/checkout/version) to argv lists.
                    ``GitmlTool`` and ``DvcTool`` implement it; remotes/pipelines go here later.
* ``Scenario``   -- a named, timed operation registered in ``SCENARIOS`` (``--only`` selects).
                    Each scenario declares the repo state it needs; the harness brings a repo
                    to that state with untimed setup steps and times only the scenario's argv.
* ``Runner``     -- runs one subprocess, timing it with ``time.perf_counter`` and taking the
                    child's peak RSS from ``os.wait4``; output goes to a per-run log file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shlex
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

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
    """Maps abstract operations to argv lists. Subclass to add a tool.

    Extension points for later work (not implemented yet): ``remote_add(name, url)``,
    ``push()``, ``pull()``, ``repro()`` -- each returning argv lists like the ones below,
    with matching scenarios registered in ``SCENARIOS``.
    """

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


# --------------------------------------------------------------------------------------
# repo states and scenarios


class State(IntEnum):
    REPO = 0  # fresh git repo, one empty commit
    INIT = 1  # tool initialised (+ link config), committed
    DATA = 2  # workload copied into data/
    ADDED = 3  # data added, pointer files committed, nothing changed


@dataclass
class Ctx:
    tool: Tool
    workload: Workload
    workdir: Path
    repo: Path
    env: dict[str, str]
    runner: Runner
    link: str

    def run(self, argv: list[str], timed: bool = False) -> Sample:
        return self.runner.run(argv, self.repo, self.env, timed=timed)


@dataclass
class Scenario:
    """A timed operation.

    ``needs``: repo state required before ``pre``; ``exact`` means a repo further along
    is not acceptable (a fresh one is prepared instead). ``ops`` returns the timed commands
    as (row label, argv, compared); ``post`` runs untimed afterwards and yields the state.
    """

    name: str
    help: str
    needs: State
    ops: Callable[[Ctx], list[tuple[str, list[str], bool]]]
    exact: bool = False
    pre: Callable[[Ctx], None] | None = None
    post: Callable[[Ctx], None] | None = None
    result: State | None = None  # state after the scenario (default: unchanged)


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


# Untimed steps that take a repo from the previous state to the keyed one.
STEPS: dict[State, Callable[[Ctx], None]] = {
    State.REPO: step_repo,
    State.INIT: step_init,
    State.DATA: step_data,
    State.ADDED: step_add,
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
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    @property
    def median_s(self) -> float | None:
        return statistics.median(s.seconds for s in self.samples) if self.samples else None

    @property
    def median_peak(self) -> float | None:
        return statistics.median(s.peak_rss_mib for s in self.samples) if self.samples else None


class RepoSession:
    """A scratch repo for one (tool, workload, rep), advanced through ``State``s."""

    def __init__(
        self,
        tool: Tool,
        workload: Workload,
        args: argparse.Namespace,
        runner: Runner,
        tmp_root: Path,
    ) -> None:
        self.tool, self.workload, self.args, self.runner = tool, workload, args, runner
        self.tmp_root = tmp_root
        self.ctx: Ctx | None = None
        self.state: State | None = None

    def fresh(self) -> Ctx:
        self.close()
        run_dir = Path(
            tempfile.mkdtemp(prefix=f"{self.tool.name}-{self.workload.name}-", dir=self.tmp_root)
        )
        repo = run_dir / "repo"
        repo.mkdir()
        self.ctx = Ctx(
            self.tool,
            self.workload,
            self.args.workdir,
            repo,
            self.tool.env(run_dir),
            self.runner,
            self.args.link,
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
        if self.ctx is not None and not self.args.keep:
            rmtree(self.ctx.repo.parent)
        self.ctx = None


def bench_tool_workload(
    tool: Tool,
    workload: Workload,
    scenarios: list[Scenario],
    args: argparse.Namespace,
    log_dir: Path,
) -> list[OpResult]:
    runner = Runner(log_dir / f"{tool.name}-{workload.name}.log", args.timeout, args.drop_caches)
    tmp_root = args.workdir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, str], OpResult] = {}
    failed: set[str] = set()

    def result(sc: Scenario, label: str, argv: list[str], compared: bool) -> OpResult:
        key = (sc.name, label)
        if key not in results:
            results[key] = OpResult(tool.name, workload.name, sc.name, label, compared, argv)
        return results[key]

    for rep in range(1, args.reps + 1):
        session = RepoSession(tool, workload, args, runner, tmp_root)
        try:
            for sc in scenarios:
                if sc.name in failed:
                    continue
                where = f"[{tool.name}/{workload.name}] rep {rep}/{args.reps} {sc.name}"
                phase = "setup"
                try:
                    ctx = session.reach(sc.needs, sc.exact)
                    if sc.pre:
                        sc.pre(ctx)
                    ops = sc.ops(ctx)
                    phase = "timed command"
                    for label, argv, compared in ops:
                        r = result(sc, label, argv, compared)
                        smp = ctx.run(argv, timed=True)
                        r.samples.append(smp)
                        log(
                            f"{where}: {label}: {smp.seconds:.3f}s  peak {smp.peak_rss_mib:.0f} MiB"
                        )
                    phase = "after-check"
                    if sc.post:
                        sc.post(ctx)
                    if sc.result is not None:
                        session.state = sc.result
                except BenchError as e:
                    # Abort this scenario for this tool/workload (remaining reps too); the
                    # repo is in an unknown state, so later scenarios get a fresh one.
                    failed.add(sc.name)
                    session.invalidate()
                    log(f"\n!!! {where} ABORTED in {phase}: {e}\n")
                    first = f"{phase} failed: {str(e).splitlines()[0]}"
                    for label, argv, compared in sc.ops(session.ctx) if session.ctx else []:
                        result(sc, label, argv, compared).error = first
        finally:
            session.close()
    return list(results.values())


# --------------------------------------------------------------------------------------
# reporting


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def markdown_table(workload: Workload, results: list[OpResult], tools: list[str]) -> str:
    rows: dict[str, dict[str, OpResult]] = {}
    order = list(SCENARIOS)
    mine = [r for r in results if r.workload == workload.name]
    # Registry order, compared rows before informational ones within a scenario.
    for r in sorted(mine, key=lambda r: (order.index(r.scenario), not r.compared)):
        rows.setdefault(r.op, {})[r.tool] = r
    both = tools == ["gitml", "dvc"]
    head = ["operation"] + [f"{t} s" for t in tools]
    if both:
        head.append("gitml/dvc")
    head += [f"{t} peak MiB" for t in tools]
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
        lines.append("| " + " | ".join(cells) + " |")
    notes = [
        f"- {r.tool} `{r.op}`: {r.error}"
        for r in results
        if r.workload == workload.name and r.error
    ]
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
    args = p.parse_args(argv)
    args.workdir = args.workdir.resolve()
    args.only_list = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.only_list if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    args.workload_list = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if bad := [w for w in args.workload_list if w not in ("bigfile", "manyfiles")]:
        p.error(f"unknown workload(s) {bad}")
    if args.reps < 1:
        p.error("--reps must be >= 1")
    if args.skip_gitml and not (args.dvc or args.dvc_bin):
        p.error("--skip-gitml without --dvc leaves nothing to run")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = workdir / "logs" / stamp
    log_dir.mkdir(parents=True, exist_ok=True)

    tools: list[Tool] = []
    if not args.skip_gitml:
        exe = find_gitml(args.gitml)
        if exe is None:
            sys.exit(
                "error: gitml executable not found (use --gitml PATH, install it with "
                "`pip install -e .` into the venv, or pass --skip-gitml)"
            )
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
    for w in workloads:
        for t in tools:
            log(
                f"== {t.name} on {w.name} ({w.describe}), {args.reps} rep(s); log: "
                f"{log_dir / f'{t.name}-{w.name}.log'}"
            )
            results += bench_tool_workload(t, w, scenarios, args, log_dir)

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
    for w in workloads:
        out += [
            "",
            f"## {w.name}: {w.describe} (`{w.target}`)",
            "",
            markdown_table(w, results, names),
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
