"""`gitml repro`: run exactly the stale stages, in dependency order, optionally in parallel.

Each stage is judged when its upstream stages have finished, so a stage runs only if
something it uses really changed. Bookkeeping (hashing, caching, gitml.lock) happens
under one lock; only the stage commands run concurrently (`-j N`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import fsutil, git, gitignore
from gitml.errors import GitmlError, PipelineError
from gitml.hashing import Oid
from gitml.outputs import TrackedOutput
from gitml.pipeline import LOCK_FILE, runcache
from gitml.pipeline.dag import Graph
from gitml.pipeline.model import LockedPath, LockEntry, ParamValues, Stage
from gitml.pipeline.observe import missing_params, observe_stage, param_values
from gitml.pipeline.project import Locks
from gitml.pipeline.repro_plan import (
    FAILED,
    FROZEN,
    RAN,
    RESTORED,
    SKIPPED,
    UNCHANGED,
    Emit,
    Output,
    ReproOptions,
    ReproResult,
    StageResult,
    check_sources,
    describe,
    load,
    plan,
    select,
)
from gitml.pipeline.runcache import RunSource
from gitml.pipeline.runmeta import host_meta, now_iso
from gitml.pipeline.shell import shell_argv
from gitml.pipeline.spec import Pipeline
from gitml.pipeline.stale import Observed, Reason, ReasonKind, why_stale
from gitml.restore import restore
from gitml.scan import observe, store_observed
from gitml.tabular.checks import require_valid
from gitml.workspace import Workspace

if TYPE_CHECKING:  # the executor is handed in by the CLI; repro only calls it
    from gitml.executor.driver import StageExecutor
    from gitml.executor.protocol import Action


class StageRunner:
    def __init__(
        self,
        ws: Workspace,
        pipeline: Pipeline,
        graph: Graph,
        lock: Locks,
        options: ReproOptions,
        emit: Emit,
        output: Output,
        source: RunSource | None,
        executor: StageExecutor | None = None,
    ) -> None:
        self.ws = ws
        self.executor = executor
        self.pipeline = pipeline
        self.graph = graph
        self.lock = lock
        self.options = options
        self.emit_raw = emit
        self.output = output
        self.source = source
        self.parallel = options.jobs > 1
        self.book = threading.Lock()  # all hashing, caching and lock-file writes
        self.results: dict[str, StageResult] = {}
        self.touched: dict[str, None] = {}
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._procs_lock = threading.Lock()
        self.cancelled = threading.Event()
        self._started: dict[str, tuple[str, float]] = {}
        self._host_meta: dict[str, object] | None = None
        self.elsewhere: dict[str, LockedPath] = {}  # --no-download outs, left in the store

    def emit(self, stage: str, text: str) -> None:
        self.emit_raw(f"[{stage}] {text}" if self.parallel else text)

    # Scheduling ------------------------------------------------------------

    def run(self, order: list[str]) -> list[StageResult]:
        selected = set(order)
        pending = list(order)
        running: dict[Future[StageResult], str] = {}
        stop = False
        with ThreadPoolExecutor(max(1, self.options.jobs)) as pool:
            try:
                while pending or running:
                    for name in list(pending):
                        parents = self.graph.parents[name] & selected
                        bad = [
                            p for p in parents
                            if p in self.results and self.results[p].outcome in (FAILED, SKIPPED)
                        ]  # fmt: skip
                        if bad:
                            pending.remove(name)
                            self.results[name] = StageResult(
                                name, SKIPPED, message=f"upstream stage '{sorted(bad)[0]}' failed"
                            )
                        elif (
                            not stop
                            and len(running) < self.options.jobs
                            and all(p in self.results for p in parents)
                        ):
                            pending.remove(name)
                            running[pool.submit(self._timed_stage, name)] = name
                    if not running:
                        break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        name = running.pop(future)
                        result = future.result()
                        self.results[name] = result
                        if result.outcome == FAILED and not self.options.keep_going:
                            stop = True
            except BaseException:
                self.cancel()
                raise
        for name in pending:
            self.results[name] = StageResult(name, SKIPPED, message="not run: a stage failed")
        return [self.results[name] for name in order]

    def cancel(self) -> None:
        self.cancelled.set()
        if self.executor is not None:
            self.executor.cancel()
        with self._procs_lock:
            for proc in self._procs:
                with contextlib.suppress(OSError):
                    proc.terminate()

    # One stage -------------------------------------------------------------

    def _timed_stage(self, name: str) -> StageResult:
        start = time.monotonic()
        self._started[name] = (now_iso(), start)
        result = self.stage(name)
        result.duration_s = round(time.monotonic() - start, 3)
        return result

    def _run_meta(self, name: str) -> dict[str, object]:
        """What the run-cache entry of a stage run records besides the lock entry."""
        if self._host_meta is None:
            self._host_meta = host_meta(self.ws.root)
        started, t0 = self._started.get(name, (None, time.monotonic()))
        return {
            **self._host_meta,
            "started": started,
            "duration_s": round(time.monotonic() - t0, 3),
        }

    def stage(self, name: str) -> StageResult:
        stage = self.pipeline.stages[name]
        if stage.frozen:
            return StageResult(name, FROZEN)
        reasons: list[Reason] = []
        try:
            with self.book:
                observed = observe_stage(self.ws, stage)
                if self.elsewhere:  # a dep another stage left in the store counts as present
                    found = {d: self.elsewhere[d] for d in stage.deps if d in self.elsewhere}
                    observed = Observed({**observed.paths, **found}, observed.params)
                if self.options.force:
                    reasons = [Reason(ReasonKind.FORCED)]
                else:
                    reasons = why_stale(stage, self.lock.entries.get(name), observed)
                if not reasons:
                    return StageResult(name, UNCHANGED)
                self._check_inputs(stage, observed.paths)
                missing = missing_params(observed)
                if missing:
                    raise PipelineError(f"stage '{name}': parameter '{missing[0]}' is missing")
                deps = tuple(observed.paths[d] for d in stage.deps)
                params = param_values(observed)
                deps_locked = tuple(d for d in deps if d is not None)
                if self._try_locked_outs(stage, reasons):
                    self.emit(name, f"Stage '{name}' outputs restored from the cache (not run)")
                    return StageResult(name, RESTORED, reasons)
                if self._try_run_cache(stage, deps_locked, params):
                    self.emit(name, f"Stage '{name}' restored from the run-cache (not run)")
                    return StageResult(name, RESTORED, reasons)
                claim_key = self._claimable_key(stage, deps_locked, params)
            with self._claim(claim_key):
                if claim_key is not None:
                    with self.book:  # a run that held the claim may have just saved this one
                        if self._try_run_cache(stage, deps_locked, params):
                            self.emit(name, f"Stage '{name}' restored from the run-cache (not run)")
                            return StageResult(name, RESTORED, reasons)
                with self.book:
                    self._prepare_outs(stage)
                    action = (
                        self.executor.action(self.ws, stage, observed) if self.executor else None
                    )
                self.emit(name, f"Running stage '{name}' ({describe(reasons)}):")
                if action is not None:
                    return self._run_elsewhere(stage, action, reasons, deps_locked, params)
                code = self._run_commands(stage)
                if code != 0:
                    how = (
                        f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                    )
                    return StageResult(name, FAILED, reasons, code, f"command {how}")
                require_valid(self.ws, [o.path for o in stage.outs], "outputs not cached")
                with self.book:
                    self._commit(stage, deps_locked, params)
            return StageResult(name, RAN, reasons)
        except GitmlError as exc:
            message = exc.message.removeprefix(f"stage '{name}': ")
            return StageResult(name, FAILED, reasons, message=message)

    def _run_elsewhere(
        self,
        stage: Stage,
        action: Action,
        reasons: list[Reason],
        deps: tuple[LockedPath, ...],
        params: ParamValues,
    ) -> StageResult:
        """--executor: the stage runs on a worker; its verified outs are recorded here."""
        assert self.executor is not None
        done = self.executor.run(self.ws, stage, action)
        for line in done.result.output_tail.splitlines():
            self.output(stage.name, line.encode())
        worker = done.result.metadata()
        if not done.ok:
            return StageResult(
                stage.name, FAILED, reasons, done.result.returncode, done.message, worker=worker
            )
        cached = {o.path for o in stage.outs if o.cache}
        with self.book:
            outs = done.result.outs
            if self.executor.download:
                self._restore_outs(tuple(o for o in outs if o.path in cached))
            else:
                self.elsewhere.update((o.path, o) for o in outs if o.path in cached)
            for path in cached:
                self._ignore(path)
            self.executor.place_copies(self.ws, [o for o in outs if o.path not in cached])
            entry = self._write_lock(stage, deps, params, done.result.outs)
            if runcache.eligible(stage):
                where = {"kind": self.executor.kind, **worker}
                meta = {**self._run_meta(stage.name), "executor": where}
                runcache.save(self.ws.cache, entry, meta)
        return StageResult(stage.name, RAN, reasons, worker=worker)

    def _check_inputs(self, stage: Stage, paths: Mapping[str, LockedPath | None]) -> None:
        for dep in stage.deps:
            if paths.get(dep) is None:
                producer = self.graph.producer_of(dep)
                hint = f" (produced by stage '{producer}')" if producer else ""
                raise PipelineError(f"stage '{stage.name}': dependency '{dep}' is missing{hint}")

    def _try_run_cache(
        self, stage: Stage, deps: tuple[LockedPath, ...], params: ParamValues
    ) -> bool:
        if not self.options.run_cache or self.options.force or not runcache.eligible(stage):
            return False
        key = runcache.run_key(
            stage.cmd, stage.cmd_is_list, stage.wdir, deps, params, [o.path for o in stage.outs]
        )
        hit = runcache.lookup(self.ws.cache, key, self.source)
        if hit is None:
            return False
        self._restore_outs(hit.entry.outs)
        self._write_lock(stage, deps, params, hit.entry.outs)
        return True

    def _claimable_key(
        self, stage: Stage, deps: tuple[LockedPath, ...], params: ParamValues
    ) -> str | None:
        """The run key to claim before running: only when the run-cache is in use."""
        if not self.options.run_cache or self.options.force or not runcache.eligible(stage):
            return None
        return runcache.run_key(
            stage.cmd, stage.cmd_is_list, stage.wdir, deps, params, [o.path for o in stage.outs]
        )

    def _claim(self, key: str | None) -> contextlib.AbstractContextManager[None]:
        """Experiments in parallel worktrees share the cache: the same run started twice
        at the same moment runs once; the second waits here, then restores it."""
        return contextlib.nullcontext() if key is None else runcache.claim(self.ws.cache, key)

    def _try_locked_outs(self, stage: Stage, reasons: list[Reason]) -> bool:
        """Only outs are missing and the lock entry still holds for everything else: put
        back the recorded outs when their objects are in the cache (or, with `--pull`,
        on the remote) instead of running the stage."""
        entry = self.lock.entries.get(stage.name)
        if (
            entry is None
            or not self.options.run_cache
            or self.options.force
            or not reasons
            or any(r.kind is not ReasonKind.OUT_MISSING for r in reasons)
            or not all(o.cache for o in stage.outs)
        ):
            return False
        outs = [entry.out(r.subject) for r in reasons]
        missing = [o for o in outs if o is None]
        if missing or not self._have_objects([o for o in outs if o is not None]):
            return False
        self._restore_outs(tuple(o for o in outs if o is not None))
        return True

    def _have_objects(self, outs: list[LockedPath]) -> bool:
        """Whether the cache holds (after fetching from the source) what `outs` need."""
        cache = self.ws.cache

        def lacking() -> list[Oid]:
            found = [o.oid for o in outs if not cache.exists(o.oid)]
            for out in outs:
                if out.is_dir and cache.exists(out.oid):
                    found += cache.missing([e.oid for e in cache.load_manifest(out.oid)])
            return found

        need = lacking()
        for _ in range(2):  # outs and manifests, then the files of fetched manifests
            if not need or self.source is None:
                break
            self.source.fetch_objects(need)
            need = lacking()
        return not need

    def _restore_outs(self, outs: tuple[LockedPath, ...]) -> None:
        # force: a stage's outs are repro's to replace, as running the stage would
        chosen = [TrackedOutput(o.path, o.pointer(), f"{LOCK_FILE} ({o.path})") for o in outs]
        done = restore(self.ws, chosen, force=True)
        if done.failed:
            path, reason = done.failed[0]
            raise PipelineError(f"output '{path}' could not be restored: {reason}")
        for out in outs:
            self._ignore(out.path)

    def _prepare_outs(self, stage: Stage) -> None:
        cached = [o.path for o in stage.outs if o.cache]
        for out in stage.outs:
            if self.ws.has_pointer(out.path):
                raise PipelineError(
                    f"stage '{stage.name}': output '{out.path}' is tracked by 'gitml add' "
                    f"({out.path}.gitml); run 'gitml rm {out.path}' first"
                )
        in_git = git.tracked_by_git(self.ws.root, cached)
        if in_git:
            raise PipelineError(
                f"stage '{stage.name}': output '{in_git[0]}' is tracked by git; "
                f"run 'git rm -r --cached {in_git[0]}' or declare it with cache: false"
            )
        for out in stage.outs:
            target = self.ws.abspath(out.path)
            if out.persist:
                _detach(target)
            else:
                fsutil.remove_path(target)
            target.parent.mkdir(parents=True, exist_ok=True)

    def _run_commands(self, stage: Stage) -> int:
        cwd = self.ws.abspath(stage.wdir) if stage.wdir else self.ws.root
        if not cwd.is_dir():
            raise PipelineError(f"stage '{stage.name}': wdir '{stage.wdir}' is not a directory")
        env = {**os.environ, "GITML_ROOT": str(self.ws.root), "GITML_STAGE": stage.name}
        for command in stage.cmd:
            if self.cancelled.is_set():
                return -15
            self.emit(stage.name, f"> {command}")
            code = self._run_one(stage.name, command, cwd, env)
            if code != 0:
                return code
        return 0

    def _run_one(self, name: str, command: str, cwd: object, env: dict[str, str]) -> int:
        argv = shell_argv(command)
        try:
            if self.parallel or self.options.capture_output:
                proc = subprocess.Popen(
                    argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,  # type: ignore[call-overload]
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )  # fmt: skip
            else:
                out = 2 if self.options.stage_output_to_stderr else None
                proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out)  # type: ignore[call-overload]
        except OSError as exc:
            raise PipelineError(f"stage '{name}': could not start: {exc.strerror or exc}") from None
        with self._procs_lock:
            self._procs.add(proc)
        try:
            if proc.stdout is not None:
                for line in proc.stdout:
                    self.output(name, line)
            return int(proc.wait())
        finally:
            with self._procs_lock:
                self._procs.discard(proc)

    def _commit(self, stage: Stage, deps: tuple[LockedPath, ...], params: ParamValues) -> None:
        outs = []
        for out in stage.outs:
            found = observe(out.path, self.ws.abspath(out.path), self.ws.cache, self.ws.state,
                            self.ws.progress)  # fmt: skip
            if found.kind == "missing":
                raise PipelineError(f"the command did not create output '{out.path}'")
            if out.cache:
                store_observed(self.ws, found)
                self._ignore(out.path)
            outs.append(LockedPath.from_pointer(out.path, found.pointer()))
        entry = self._write_lock(stage, deps, params, tuple(outs))
        if runcache.eligible(stage):
            runcache.save(self.ws.cache, entry, self._run_meta(stage.name))

    def _ignore(self, relpath: str) -> None:
        target = self.ws.abspath(relpath)
        if gitignore.add_entry(target.parent, target.name):
            parent = relpath.rpartition("/")[0]
            self.touched[f"{parent}/.gitignore" if parent else ".gitignore"] = None

    def _write_lock(
        self,
        stage: Stage,
        deps: tuple[LockedPath, ...],
        params: ParamValues,
        outs: tuple[LockedPath, ...],
    ) -> LockEntry:
        entry = LockEntry(stage.cmd, stage.cmd_is_list, stage.wdir, deps, params, outs)
        self.touched[self.lock.record(stage.name, entry)] = None
        return entry


def _detach(path: Path) -> None:
    """A persisted out that is a link into the cache gets a private copy before it is edited."""
    targets = (
        [path]
        if not path.is_dir() or path.is_symlink()
        else [Path(d) / n for d, _, names in os.walk(path) for n in names]
    )
    for p in targets:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        if os.path.islink(p) or st.st_nlink > 1:
            tmp = p.with_name(p.name + ".gitml-detach")
            shutil.copyfile(p, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, p)


def repro(
    ws: Workspace,
    options: ReproOptions,
    emit: Emit,
    output: Output,
    source: RunSource | None = None,
    executor: StageExecutor | None = None,
) -> ReproResult:
    """Run what is stale; `source` (a remote, for --pull) supplies run-cache entries;
    `executor` (--executor) runs the commands elsewhere."""
    if options.dry:
        return ReproResult(plan(ws, options))
    with ws.locked():
        pipeline, graph = load(ws)
        order = select(pipeline, graph, options)
        check_sources(ws, pipeline, graph, order)
        lock = Locks.load(ws.root, pipeline)
        runner = StageRunner(ws, pipeline, graph, lock, options, emit, output, source, executor)
        try:
            results = runner.run(order)
        finally:
            ws.state.save()
        return ReproResult(results, list(runner.touched))
