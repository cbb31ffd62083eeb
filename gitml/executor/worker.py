"""Run one executor action anywhere gitml is installed; no workspace needed.

The stage runs in a scratch folder outside any workspace that holds exactly what the
action names: inputs fetched from the store (verified against their ids), inline files,
and the parent folders of the outs. Afterwards the declared outs are hashed exactly as
`gitml repro` hashes them, stored (and pushed, for a remote store), and returned by id.

`python -m gitml.executor.worker` reads one action (JSON) on stdin and writes its result
(JSON) on stdout: the `process` executor uses it.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gitml import fsutil
from gitml.cache import Cache
from gitml.errors import GitmlError, PipelineError, RemoteError
from gitml.executor.protocol import Action, ActionResult, StoreSpec, tail
from gitml.pipeline.model import LockedPath
from gitml.pipeline.shell import shell_argv
from gitml.progress import NullProgress
from gitml.remote import pool as transfer
from gitml.remote.config import RemoteConfig
from gitml.remote.pool import Item
from gitml.remote.sizes import SMALL_MAX
from gitml.remote.store import RemoteStore, open_remote
from gitml.restore import place_fresh
from gitml.scan import observe
from gitml.state import StateDB
from gitml.tabular.checks import check_valid
from gitml.tabular.schema import parse_schema

_PLACE = ("reflink", "copy")  # a command may edit its inputs: never link them to the cache
_STORE = ("reflink", "hardlink", "copy")  # the scratch copy of an out is deleted afterwards
_children: dict[subprocess.Popen[bytes], str] = {}  # command -> run id of its repro
_cancelled_runs: set[str] = set()
_children_lock = threading.Lock()


def run_action(action_json: str) -> str:
    """The task a remote engine runs: an action's JSON in, its result's JSON out."""
    return execute(Action.from_json(action_json)).to_json()


def execute(action: Action) -> ActionResult:
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", action.stage)[-40:]  # sub/gitml.yaml:train
    scratch = Path(tempfile.mkdtemp(prefix=f"gitml-{label}-"))
    try:
        return _execute(action, scratch)
    except GitmlError as exc:
        return ActionResult(action.stage, None, error=exc.message, host=socket.gethostname())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _execute(action: Action, scratch: Path) -> ActionResult:
    root = scratch / "ws"
    root.mkdir()
    cache, remote = _open_store(action.store, scratch)
    _materialise(action, root, cache, remote)
    cwd = root / action.wdir if action.wdir else root
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **action.env, "GITML_ROOT": str(root), "GITML_STAGE": action.stage}
    log = scratch / "output.log"
    started = time.monotonic()
    code, usage, timed_out = _run_commands(action, cwd, env, log)
    duration = time.monotonic() - started
    result = ActionResult(
        action.stage, code, output_tail=tail(_read_tail(log)), duration=duration,
        usage=usage, host=socket.gethostname(),
    )  # fmt: skip
    if timed_out:
        return _replace(result, error=f"timed out after {action.timeout:g} s")
    if code != 0:
        return result
    try:
        _check_schemas(action, root, scratch)
    except GitmlError as exc:
        return _replace(result, error=exc.message)
    outs = tuple(_store_out(relpath, root, cache, scratch) for relpath in action.outs)
    if remote is not None:
        _push(outs, cache, remote)
    return _replace(result, outs=outs)


def _check_schemas(action: Action, root: Path, scratch: Path) -> None:
    """Outs that break their schema fail the stage before anything is stored, as in a
    local `repro` (a missing out is reported when it is stored)."""
    for check in action.schemas:
        if os.path.lexists(root / check.out):
            schema = parse_schema(check.text, check.schema)
            check_valid(root / check.out, check.out, schema, "outputs not cached", scratch)


def _replace(result: ActionResult, **changes: object) -> ActionResult:
    from dataclasses import replace

    return replace(result, **changes)  # type: ignore[arg-type]


# Store -------------------------------------------------------------------------------


def _open_store(spec: StoreSpec, scratch: Path) -> tuple[Cache, RemoteStore | None]:
    if spec.kind == "cache":
        folder = Path(spec.location)
        if not folder.parent.is_dir():
            raise PipelineError(f"the cache {spec.location} is not on this worker")
        folder.mkdir(exist_ok=True)
        return Cache(folder), None
    cache = Cache(scratch / "cache")
    store = open_remote(RemoteConfig(spec.name, spec.location, spec.options), scratch)
    store.attach_cache(cache)
    store.check_format(must_exist=True)
    return cache, store


def _fetch(cache: Cache, remote: RemoteStore | None, items: list[Item]) -> None:
    wanted = [i for i in items if not cache.exists(i.oid)]
    if not wanted:
        return
    if remote is None:
        raise PipelineError(f"input '{wanted[0].label}' ({wanted[0].oid}) is not in the cache")

    def download(item: Item, on_bytes: Callable[[int], None]) -> None:
        remote.download(item.oid, item.size, cache, on_bytes, item.label)

    outcome = transfer.run(
        wanted, download, jobs=remote.jobs, progress=NullProgress(), description="Fetch"
    )
    if outcome.failed:
        item, reason = outcome.failed[0]
        raise RemoteError(f"input '{item.label}': {reason}")


def _materialise(action: Action, root: Path, cache: Cache, remote: RemoteStore | None) -> None:
    linker = fsutil.Linker(_PLACE)
    # Manifests first (their size is unknown here: the streamed path suits any size).
    _fetch(cache, remote, [Item(i.oid, SMALL_MAX, i.path) for i in action.inputs if i.is_dir])
    files: list[Item] = []
    for item in action.inputs:
        if item.is_dir:
            manifest = cache.load_manifest(item.oid)
            files += [Item(e.oid, e.size, f"{item.path}/{e.relpath}") for e in manifest]
        else:
            files.append(Item(item.oid, item.size, item.path))
    _fetch(cache, remote, files)
    for item in action.inputs:
        place_fresh(
            cache, item.path, root / item.path, item.oid,
            is_dir=item.is_dir, executable=item.executable, linker=linker,
        )  # fmt: skip
    for inline in action.files:
        target = root / inline.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(inline.data)
        if inline.executable:
            target.chmod(0o755)
    for out in action.outs:
        (root / out).parent.mkdir(parents=True, exist_ok=True)


def _store_out(relpath: str, root: Path, cache: Cache, scratch: Path) -> LockedPath:
    state = StateDB(scratch / "state.db")  # never saved: only for observe's signature
    found = observe(relpath, root / relpath, cache, state, NullProgress())
    if found.kind == "missing":
        raise PipelineError(f"the command did not create output '{relpath}'")
    linker = fsutil.Linker(_STORE)
    for f in found.files:
        assert f.oid is not None
        cache.add_file(f.path, f.oid, linker, f.st.st_size)
    if found.manifest is not None:
        cache.add_hashed_bytes(found.manifest.render(), found.manifest.oid())
    return LockedPath.from_pointer(relpath, found.pointer())


def _push(outs: tuple[LockedPath, ...], cache: Cache, remote: RemoteStore) -> None:
    items: list[Item] = []
    for out in outs:
        if out.is_dir:
            items += [Item(e.oid, e.size, out.path) for e in cache.load_manifest(out.oid)]
        items.append(Item(out.oid, os.path.getsize(cache.path(out.oid)), out.path))
    unique = list({i.oid: i for i in items}.values())
    present = remote.present([i.oid for i in unique])

    def upload(item: Item, on_bytes: Callable[[int], None]) -> None:
        remote.upload(item.oid, cache.path(item.oid), item.size, on_bytes)

    outcome = transfer.run(
        [i for i in unique if i.oid not in present], upload, jobs=remote.jobs,
        progress=NullProgress(), description="Push",
    )  # fmt: skip
    if outcome.failed:
        item, reason = outcome.failed[0]
        raise RemoteError(f"output '{item.label}': {reason}")
    for out in outs:
        if out.is_dir:
            remote.mark_complete(out.oid)


# Running ------------------------------------------------------------------------------


def _run_commands(
    action: Action, cwd: Path, env: dict[str, str], log: Path
) -> tuple[int, dict[str, float], bool]:
    deadline = None if action.timeout is None else time.monotonic() + action.timeout
    cpu = 0.0
    rss = 0.0
    with open(log, "wb") as sink:
        for command in action.cmd:
            sink.write(f"> {command}\n".encode())
            sink.flush()
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            code, usage, timed_out = _run_one(
                shell_argv(command), cwd, env, sink, left, action.run_id
            )
            cpu += usage.ru_utime + usage.ru_stime
            rss = max(rss, usage.ru_maxrss / 1024)  # KiB on Linux
            if code != 0 or timed_out:
                return code, {"cpu_seconds": cpu, "max_rss_mib": rss}, timed_out
    return 0, {"cpu_seconds": cpu, "max_rss_mib": rss}, False


def _run_one(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    sink: object,
    timeout: float | None,
    run_id: str,
) -> tuple[int, resource.struct_rusage, bool]:
    with _children_lock:
        if run_id in _cancelled_runs:
            raise PipelineError("cancelled")
    try:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink,  # type: ignore[call-overload]
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        raise PipelineError(f"could not start: {exc.strerror or exc}") from None
    with _children_lock:
        _children[proc] = run_id
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill(proc)

    timer = threading.Timer(timeout, expire) if timeout is not None else None
    try:
        if timer is not None:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, usage, expired.is_set()
    finally:
        if timer is not None:
            timer.cancel()
        with _children_lock:
            _children.pop(proc, None)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_children(run_id: str | None = None) -> None:
    """Stop the commands this process runs for one repro (all of them: None), and keep
    that repro from starting more here."""
    with _children_lock:
        if run_id is not None:
            _cancelled_runs.add(run_id)
        for proc, owner in list(_children.items()):
            if run_id is None or owner == run_id:
                _kill(proc)


def _read_tail(log: Path) -> bytes:
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            return handle.read()
    except FileNotFoundError:
        return b""


def _on_terminate(_signum: int, _frame: object) -> None:
    kill_children()
    raise SystemExit(143)


def main() -> int:
    signal.signal(signal.SIGTERM, _on_terminate)
    result = run_action(sys.stdin.read())
    sys.stdout.write(result)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
