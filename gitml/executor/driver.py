"""The driver side of the executor protocol: the machine running `repro`.

It turns a stale stage into an action, hands it to an engine (a local worker process, a
Dask cluster), and takes the result back: the out ids are checked against the store
(objects present, hashes verified as they enter the cache) before `repro` records the
run in gitml.lock and the run-cache and places the outputs. Scheduling, the lock file
and the run-cache never leave this machine.
"""

from __future__ import annotations

import os
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitml import fsutil
from gitml.errors import ConfigError, ExecutorError, IntegrityError, PipelineError
from gitml.executor.dask_executor import DaskEngine
from gitml.executor.process import ProcessEngine
from gitml.executor.protocol import Action, ActionResult, InlineFile, OutSchema, StoreSpec
from gitml.hashing import Oid
from gitml.ops.sync import upload_all
from gitml.pipeline.model import LockedPath, Stage
from gitml.pipeline.stale import Observed
from gitml.remote import config as remote_config
from gitml.remote import pool as transfer
from gitml.remote.pool import Item
from gitml.remote.sizes import SMALL_MAX
from gitml.remote.store import RemoteStore
from gitml.repo import open_store
from gitml.restore import place_fresh
from gitml.tabular.checks import schemas_of
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from gitml.cache import Cache

INLINE_MAX = 16 * 1024 * 1024  # bytes of files one action may carry itself
_MISSING_HINTS = ("No such file", "not found", "cannot open", "can't open", "does not exist")
_PATHLIKE = re.compile(r"[\w.\-/]+")


class Engine(Protocol):
    """Carries an action to a worker and its result back (blocking; thread-safe)."""

    def run(self, action: Action, stage: Stage) -> ActionResult: ...

    def cancel(self, run_id: str) -> None:
        """Stop this repro's running actions (Ctrl-C); running calls then raise or return."""

    def close(self) -> None: ...


class StoreSide(Protocol):
    """How actions' inputs reach workers and results' outs come back."""

    spec: StoreSpec

    def has(self, item: LockedPath) -> bool:
        """Whether this input can travel by id (its objects are in the cache or the store)."""

    def send(self, inputs: tuple[LockedPath, ...]) -> None:
        """Make the inputs' objects available to workers."""

    def receive(self, outs: tuple[LockedPath, ...], download: bool) -> None:
        """Check the outs exist in the store; with `download`, bring them into the cache."""


@dataclass
class Done:
    """A stage run elsewhere, as `repro` records it."""

    result: ActionResult
    message: str = ""  # why it failed

    @property
    def ok(self) -> bool:
        return self.result.ok


class StageExecutor:
    """What `repro` plugs in where a stage would run locally."""

    def __init__(self, kind: str, engine: Engine, side: StoreSide, *, download: bool) -> None:
        self.kind = kind
        self.engine = engine
        self.side = side
        self.download = download
        self.run_id = uuid.uuid4().hex

    def action(self, ws: Workspace, stage: Stage, observed: Observed) -> Action:
        inputs, files = stage_inputs(ws, stage, observed, self.side.has)
        schemas = schemas_of(ws, [o.path for o in stage.outs])
        return Action(
            stage=stage.name, cmd=stage.cmd, wdir=stage.wdir, env={"GITML_STAGE": stage.name},
            inputs=inputs, files=files, outs=tuple(o.path for o in stage.outs),
            store=self.side.spec, timeout=stage.resources.timeout, run_id=self.run_id,
            schemas=tuple(OutSchema(o, s, text) for o, (s, text) in schemas.items()),
        )  # fmt: skip

    def run(self, ws: Workspace, stage: Stage, action: Action) -> Done:
        self.side.send(action.inputs)
        result = self.engine.run(action, stage)
        if not result.ok:
            return Done(result, _failure(ws, stage, action, result))
        if [o.path for o in result.outs] != list(action.outs):
            raise IntegrityError(f"stage '{stage.name}': the worker returned other outputs")
        self.side.receive(result.outs, self.download)
        return Done(result)

    def place_copies(self, ws: Workspace, outs: list[LockedPath]) -> None:
        """Outs declared `cache: false` (git tracks them): own copies, always placed, since
        nothing but this run puts them into the workspace."""
        if outs and not self.download:
            self.side.receive(tuple(outs), True)
        linker = fsutil.Linker(("reflink", "copy"))
        for out in outs:
            place_fresh(
                ws.cache, out.path, ws.abspath(out.path), out.oid,
                is_dir=out.is_dir, executable=out.executable, linker=linker,
            )  # fmt: skip

    def cancel(self) -> None:
        self.engine.cancel(self.run_id)

    def close(self) -> None:
        self.engine.close()


# Building an action ----------------------------------------------------------------------


def _in_cache(cache: Cache, item: LockedPath) -> bool:
    if not cache.exists(item.oid):
        return False
    return not item.is_dir or cache.has_manifest_objects(item.oid)


def _files_of(ws: Workspace, relpath: str) -> list[tuple[str, Path]]:
    top = ws.abspath(relpath)
    if not top.is_dir():
        return [(relpath, top)]
    found = []
    for folder, _dirs, names in os.walk(top):
        for name in names:
            path = Path(folder) / name
            found.append((path.relative_to(ws.root).as_posix(), path))
    return found


def stage_inputs(
    ws: Workspace, stage: Stage, observed: Observed, by_id: Callable[[LockedPath], bool]
) -> tuple[tuple[LockedPath, ...], tuple[InlineFile, ...]]:
    """Inputs whose objects are in the cache travel by id; the rest (code under git,
    params files, small untracked files) travel inside the action."""
    inputs: list[LockedPath] = []
    inline: dict[str, tuple[Path, str]] = {}  # path -> (file, the dep it belongs to)
    wanted = [*stage.deps, *(o.path for o in stage.outs if o.persist)]
    for path in wanted:
        item = observed.paths.get(path)
        if item is None:
            continue
        if by_id(item):
            inputs.append(item)
        else:
            inline.update({rel: (file, path) for rel, file in _files_of(ws, path)})
    for spec in stage.params:
        if ws.abspath(spec.file).is_file():
            inline[spec.file] = (ws.abspath(spec.file), spec.file)
    files: list[InlineFile] = []
    total = 0
    for rel, (file, dep) in sorted(inline.items()):
        st = os.stat(file)
        total += st.st_size
        if total > INLINE_MAX:
            raise PipelineError(
                f"stage '{stage.name}': dependency '{dep}' is not in the cache and too large "
                f"to send with the stage",
                hint=f"track it with 'gitml add {dep}' so workers fetch it by id",
            )
        files.append(InlineFile(rel, file.read_bytes(), bool(st.st_mode & stat.S_IXUSR)))
    return tuple(inputs), tuple(files)


# Reading a failed result -------------------------------------------------------------------


def _failure(ws: Workspace, stage: Stage, action: Action, result: ActionResult) -> str:
    if result.error:
        return result.error
    code = result.returncode or 0
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    undeclared = undeclared_read(ws, stage, action, result.output_tail)
    if undeclared:
        return f"command {how}: it reads '{undeclared}', which is not a declared dependency"
    last = result.output_tail.strip().splitlines()[-1:] if result.output_tail.strip() else []
    return f"command {how}" + (f": {last[0].strip()[:200]}" if last else "")


def undeclared_read(ws: Workspace, stage: Stage, action: Action, output: str) -> str | None:
    """A workspace file the command looked for on the worker and did not find there because
    the stage does not declare it (from the error messages in its output, when they say)."""
    sent = {i.path for i in action.inputs} | {f.path for f in action.files}
    base = stage.wdir
    for line in output.splitlines():
        if not any(hint in line for hint in _MISSING_HINTS):
            continue
        for token in _PATHLIKE.findall(line):
            rel = os.path.normpath(os.path.join(base, token)) if base else os.path.normpath(token)
            if rel.startswith("..") or rel in (".", "") or os.path.isabs(token):
                continue
            inside_sent = any(rel == s or rel.startswith(s + "/") for s in sent)
            if not inside_sent and os.path.lexists(ws.root / rel):
                return rel
    return None


# Stores ----------------------------------------------------------------------------------


class CacheSide:
    """Workers on this machine read and write the workspace's cache directly."""

    def __init__(self, ws: Workspace) -> None:
        self.cache = ws.cache
        self.spec = StoreSpec("cache", str(ws.cache.root))

    def has(self, item: LockedPath) -> bool:
        return _in_cache(self.cache, item)

    def send(self, inputs: tuple[LockedPath, ...]) -> None:
        return None  # inputs travel by id only when the cache has them

    def receive(self, outs: tuple[LockedPath, ...], download: bool) -> None:
        for out in outs:
            oids = [out.oid]
            if out.is_dir:
                manifest = self.cache.load_manifest(out.oid)
                _check_dir(out, manifest.size, manifest.nfiles)
                oids += [e.oid for e in manifest]
            for oid in oids:
                if not self.cache.verify(oid):
                    raise IntegrityError(f"output '{out.path}': object {oid} is missing or corrupt")


class RemoteSide:
    """Workers fetch inputs from and push outs to a gitml remote they reach themselves."""

    def __init__(self, ws: Workspace, remote: str | None) -> None:
        config = remote_config.resolve(ws.config, ws.gitml_dir, remote)
        if remote_config.url_has_password(config.url):
            raise ExecutorError(f"remote '{config.name}': its URL holds a password; workers "
                                "must use their own credentials")  # fmt: skip
        url = config.url
        if remote_config.is_local_url(url):
            path = Path(url.removeprefix("file://")).expanduser()
            url = str(path if path.is_absolute() else (ws.root / path).resolve())
        options = {
            k: v for k, v in config.options.items() if not remote_config.is_credential_key(k)
        }
        self.ws = ws
        self.spec = StoreSpec("remote", url, config.name, options)
        self.store: RemoteStore = open_store(ws, config.name, None)
        self.store.prepare_write()  # reachable from here, and the format marker is there
        self.stored: set[Oid] = set()  # outs workers pushed and this run left there

    def has(self, item: LockedPath) -> bool:
        return item.oid in self.stored or _in_cache(self.ws.cache, item)

    def _objects(self, items: tuple[LockedPath, ...]) -> list[Item]:
        cache = self.ws.cache
        objects: list[Item] = []
        for item in items:
            if item.oid in self.stored:
                continue
            if item.is_dir:
                objects += [Item(e.oid, e.size, item.path) for e in cache.load_manifest(item.oid)]
                objects.append(Item(item.oid, os.path.getsize(cache.path(item.oid)), item.path))
            else:
                objects.append(Item(item.oid, item.size, item.path))
        return list({i.oid: i for i in objects}.values())

    def send(self, inputs: tuple[LockedPath, ...]) -> None:
        objects = self._objects(inputs)
        present = self.store.present([i.oid for i in objects])
        missing = [i for i in objects if i.oid not in present]
        if missing:
            outcome = upload_all(self.ws, self.store, missing, "Push inputs", chunk=True)
            if outcome.failed:
                failed, reason = outcome.failed[0]
                raise ExecutorError(f"could not push input '{failed.label}': {reason}")
        for dep in inputs:
            if dep.is_dir and dep.oid not in self.stored:
                self.store.mark_complete(dep.oid)

    def receive(self, outs: tuple[LockedPath, ...], download: bool) -> None:
        if not download:
            present = self.store.present([o.oid for o in outs])
            for out in outs:
                if out.oid not in present:
                    raise IntegrityError(
                        f"output '{out.path}' is not on remote '{self.store.name}'"
                    )
            self.stored.update(o.oid for o in outs)
            return

        cache = self.ws.cache
        self._download([Item(o.oid, SMALL_MAX if o.is_dir else o.size, o.path) for o in outs])
        files: list[Item] = []
        for out in outs:
            if out.is_dir:
                manifest = cache.load_manifest(out.oid)
                _check_dir(out, manifest.size, manifest.nfiles)
                files += [Item(e.oid, e.size, out.path) for e in manifest]
            elif os.path.getsize(cache.path(out.oid)) != out.size:
                raise IntegrityError(f"output '{out.path}': size differs from what the worker said")
        self._download(files)

    def _download(self, items: list[Item]) -> None:
        cache = self.ws.cache
        wanted = [i for i in {i.oid: i for i in items}.values() if not cache.exists(i.oid)]

        def download(item: Item, on_bytes: Callable[[int], None]) -> None:
            self.store.download(item.oid, item.size, cache, on_bytes, item.label)

        outcome = transfer.run(
            wanted, download, jobs=self.store.jobs, progress=self.ws.progress,
            description=f"Fetch from {self.store.name}",
        )  # fmt: skip
        if outcome.failed:
            item, reason = outcome.failed[0]
            raise ExecutorError(f"output '{item.label}': {reason}")


def _check_dir(out: LockedPath, size: int, nfiles: int) -> None:
    if out.size != size or out.nfiles != nfiles:
        raise IntegrityError(
            f"output '{out.path}': its manifest does not match what the worker said"
        )


def open_executor(
    ws: Workspace,
    kind: str,
    *,
    address: str | None = None,
    remote: str | None = None,
    download: bool = True,
) -> StageExecutor:
    """`--executor KIND`: `process` (workers on this machine, the workspace's cache) or
    `dask` (a Dask cluster, the remote)."""
    if kind == "process":
        side: StoreSide = RemoteSide(ws, remote) if remote else CacheSide(ws)
        return StageExecutor(kind, ProcessEngine(), side, download=download)
    if kind == "dask":
        side = RemoteSide(ws, remote)
        section = ws.config.section("executor")
        engine = DaskEngine.connect(address or section.get("address"), _timeout(section))
        return StageExecutor(kind, engine, side, download=download)
    raise ExecutorError(f"unknown executor '{kind}' (known: process, dask)")


def _timeout(section: dict[str, object]) -> float:
    value = section.get("timeout", 10)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("[executor] timeout must be a positive number of seconds")
    return float(value)
