"""`gitml doctor`: what a bug report needs, and what is wrong with this setup.

Returns data only. Remote probes run in daemon threads with a deadline, so an endpoint
that never answers costs at most `timeout` seconds (all remotes are probed at once).
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from gitml import __version__, fsutil
from gitml.errors import GitmlError
from gitml.stale_temps import find_stale

DEPENDENCIES = (
    "typer",
    "rich",
    "fsspec",
    "s3fs",
    "botocore",
    "pyarrow",
    "blake3",
    "PyYAML",
    "ruamel.yaml",
    "tomlkit",
)


@dataclass
class RemoteProbe:
    name: str
    url: str
    default: bool
    reachable: bool | None = None  # None: no answer within the deadline
    seconds: float = 0.0
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "default": self.default,
            "reachable": self.reachable,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass
class Report:
    versions: dict[str, Any] = field(default_factory=dict)
    workspace: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    remotes: list[RemoteProbe] = field(default_factory=list)
    hooks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "versions": self.versions,
            "workspace": self.workspace,
            "cache": self.cache,
            "remotes": [r.to_json() for r in self.remotes],
            "hooks": self.hooks,
            "problems": self.problems,
        }


def versions() -> dict[str, Any]:
    deps: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            deps[name] = None
    try:
        git_version = subprocess.run(
            ["git", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        git_version = None
    return {
        "gitml": __version__,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "git": git_version,
        "dependencies": deps,
    }


def _filesystem(path: Path) -> str | None:
    """The mounted filesystem type holding `path` (Linux /proc/self/mounts), if known."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return None
    target = str(path.resolve())
    best: tuple[int, str] | None = None
    for mount_point, fstype in mounts:
        mount_point = mount_point.replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), fstype)
    return best[1] if best else None


def probe_links(directory: Path) -> dict[str, bool]:
    """Which link types work between two files in `directory` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f".doctor-{uuid.uuid4().hex}"
    source.write_bytes(b"gitml doctor probe\n")
    works = {}
    try:
        for link_type in fsutil.LINK_TYPES:
            target = directory / f".doctor-{uuid.uuid4().hex}"
            try:
                fsutil.link_or_copy(source, target, link_type)
                works[link_type] = target.read_bytes() == b"gitml doctor probe\n"
            except OSError:
                works[link_type] = False
            finally:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
    finally:
        source.unlink()
    return works


def _cache_report(ws: Any, report: Report) -> None:
    cache_dir = Path(ws.cache.root)
    configured = list(ws.config.link_types)
    info: dict[str, Any] = {
        "dir": str(cache_dir),
        "exists": cache_dir.is_dir(),
        "filesystem": _filesystem(cache_dir if cache_dir.exists() else ws.gitml_dir),
        "link_types_configured": configured,
    }
    try:
        info["link_types_supported"] = probe_links(Path(ws.cache.tmp_dir))
    except OSError as exc:
        info["link_types_supported"] = {}
        report.problems.append(f"cache {cache_dir} is not writable: {exc.strerror or exc}")
    else:
        usable = [t for t in configured if info["link_types_supported"].get(t)]
        info["link_type_used"] = usable[0] if usable else None
        if not usable:
            report.problems.append(
                f"none of cache.type {configured} works in {cache_dir}; add 'copy' to cache.type"
            )
    stale = find_stale(Path(ws.cache.tmp_dir))
    info["stale_temp_files"] = {"count": len(stale.paths), "bytes": stale.size}
    with contextlib.suppress(OSError):
        info["same_filesystem_as_workspace"] = (
            os.stat(ws.cache.tmp_dir).st_dev == os.stat(ws.root).st_dev
        )
    report.cache = info


def _probe(ws: Any, probe: RemoteProbe) -> None:
    from gitml.remote import config as remote_config
    from gitml.remote.store import open_remote

    started = time.monotonic()
    try:
        config = remote_config.resolve(ws.config, ws.gitml_dir, probe.name)
        store = open_remote(config, ws.root, 1)
        store.check_format(must_exist=True)
        probe.reachable = True
    except GitmlError as exc:
        probe.reachable = False
        probe.error = exc.message
    except Exception as exc:  # a probe must report, never crash the report
        probe.reachable = False
        probe.error = f"{type(exc).__name__}: {exc}"
    probe.seconds = time.monotonic() - started


def _remote_report(ws: Any, report: Report, timeout: float) -> None:
    from gitml.remote import config as remote_config

    report.remotes = [
        RemoteProbe(r.name, r.url, r.is_default) for r in remote_config.all_remotes(ws.config)
    ]
    threads = []
    for probe in report.remotes:
        thread = threading.Thread(target=_probe, args=(ws, probe), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout
    for probe, thread in zip(report.remotes, threads, strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            probe.reachable = None
            probe.seconds = timeout
            probe.error = f"no answer within {timeout:g} s"
        if probe.reachable is not True:
            named = probe.error.startswith(f"remote '{probe.name}'")
            report.problems.append(
                probe.error if named else f"remote '{probe.name}': {probe.error}"
            )


def _hooks_report(ws: Any, report: Report) -> None:
    from gitml import hooks

    try:
        report.hooks = {
            "dir": str(hooks.hooks_dir(ws.root)),
            "installed": hooks.installed(ws.root),
        }
    except GitmlError as exc:
        report.hooks = {"error": exc.message}


def diagnose(start: Path | None = None, *, timeout: float = 10.0) -> Report:
    from gitml.errors import NotAWorkspaceError
    from gitml.workspace import Workspace

    report = Report(versions=versions())
    if report.versions["git"] is None:
        report.problems.append("git is not installed or not on PATH")
    try:
        ws = Workspace.find(start)
    except NotAWorkspaceError:
        return report
    report.workspace = str(ws.root)
    try:
        _cache_report(ws, report)
        _remote_report(ws, report, timeout)
    except GitmlError as exc:  # e.g. a malformed config: the report says so
        report.problems.append(exc.message)
    _hooks_report(ws, report)
    return report
