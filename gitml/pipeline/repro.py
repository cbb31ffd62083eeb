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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitml import fsutil, git, gitignore
from gitml.errors import GitmlError, PipelineError
from gitml.hashing import Oid
from gitml.outputs import observe, place_dir, place_file
from gitml.pipeline import PIPELINE_FILE
from gitml.pipeline.dag import Graph, build_graph
from gitml.pipeline.model import LockedPath, LockEntry, ParamValues, Stage
from gitml.pipeline.observe import missing_params, observe_stage, param_values
from gitml.pipeline.project import Locks
from gitml.pipeline.spec import Pipeline, load_pipeline
from gitml.pipeline.stale import Observed, Reason, ReasonKind, missing_deps, why_stale
from gitml.workspace import Workspace

if TYPE_CHECKING:
    from concurrent.futures import Future

    from gitml.pipeline.runcache import RunSource

# Outcomes of one stage.
RAN, RESTORED, UNCHANGED, FAILED, SKIPPED, FROZEN = (
    "ran", "restored", "unchanged", "failed", "skipped", "frozen",
)  # fmt: skip
WOULD_RUN, WOULD_RESTORE = "would run", "would restore"


@dataclass
class StageResult:
    name: str
    outcome: str
    reasons: list[Reason] = field(default_factory=list)
    returncode: int | None = None
    message: str = ""
    duration_s: float | None = None  # wall time of judging, running and recording it

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name, "outcome": self.outcome}
        data["reasons"] = [r.to_json() for r in self.reasons]
        if self.returncode is not None:
            data["returncode"] = self.returncode
        if self.message:
            data["message"] = self.message
        if self.duration_s is not None:
            data["duration_s"] = self.duration_s
        return data


@dataclass
class ReproResult:
    stages: list[StageResult]
    touched: list[str] = field(default_factory=list)  # git-tracked files repro changed

    @property
    def failed(self) -> list[StageResult]:
        return [s for s in self.stages if s.outcome == FAILED]


@dataclass(frozen=True)
class ReproOptions:
    targets: tuple[str, ...] = ()
    force: bool = False
    dry: bool = False
    downstream: bool = False
    single_item: bool = False  # only the targets, not the stages they need (DVC's -s)
    keep_going: bool = False
    jobs: int = 1
    run_cache: bool = True
    stage_output_to_stderr: bool = False  # --json: stdout holds only the JSON document
    capture_output: bool = False  # stage output goes line by line to `output` (exp run)


Emit = Callable[[str], None]
Output = Callable[[str, bytes], None]  # (stage, one line of its output)


def load(ws: Workspace) -> tuple[Pipeline, Graph]:
    pipeline = load_pipeline(ws.root)
    if pipeline is None:
        raise PipelineError(
            f"no {PIPELINE_FILE} in {ws.root}", hint="add a stage with 'gitml stage add'"
        )
    return pipeline, build_graph(pipeline.stages.values(), pipeline.file)


def select(pipeline: Pipeline, graph: Graph, options: ReproOptions) -> list[str]:
    if not options.targets:
        return graph.order()
    names = pipeline.select(list(options.targets))
    if options.single_item:
        return graph.order(names)
    wanted = graph.downstream(names) if options.downstream else graph.upstream(names)
    return graph.order(wanted)


def check_sources(ws: Workspace, pipeline: Pipeline, graph: Graph, order: list[str]) -> None:
    """A dep that is missing and that no stage produces can never be satisfied."""
    for name in order:
        for dep in pipeline.stages[name].deps:
            produced = graph.producer_of(dep) is not None or graph.producers_inside(dep)
            if not produced and not os.path.lexists(ws.root / dep):
                tracked = ws.has_pointer(dep)
                raise PipelineError(
                    f"stage '{name}': dependency '{dep}' does not exist and no stage produces it",
                    hint=f"it is tracked by gitml: run 'gitml checkout {dep}' or 'gitml pull'"
                    if tracked
                    else None,
                )


def _shell_argv(command: str) -> list[str]:
    """Run like DVC: the user's $SHELL (without rc files) or /bin/sh."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    if not shutil.which(shell):
        shell = "/bin/sh"
    options = {"bash": ["--noprofile", "--norc"], "zsh": ["--no-rcs"]}
    return [shell, *options.get(os.path.basename(shell), []), "-c", command]


def _describe(reasons: list[Reason], limit: int = 3) -> str:
    text = ", ".join(str(r) for r in reasons[:limit])
    return text + (f", and {len(reasons) - limit} more" if len(reasons) > limit else "")


class _Runner:
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
    ) -> None:
        self.ws = ws
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

    def emit(self, stage: str, text: str) -> None:
        self.emit_raw(f"[{stage}] {text}" if self.parallel else text)

    # Scheduling ------------------------------------------------------------

    def run(self, order: list[str]) -> list[StageResult]:
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

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
        with self._procs_lock:
            for proc in self._procs:
                with contextlib.suppress(OSError):
                    proc.terminate()

    # One stage -------------------------------------------------------------

    def _timed_stage(self, name: str) -> StageResult:
        import time

        from gitml.pipeline.runmeta import now_iso

        start = time.monotonic()
        self._started[name] = (now_iso(), start)
        result = self.stage(name)
        result.duration_s = round(time.monotonic() - start, 3)
        return result

    def _run_meta(self, name: str) -> dict[str, object]:
        """What the run-cache entry of a stage run records besides the lock entry."""
        import time

        from gitml.pipeline.runmeta import host_meta

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
                self.emit(name, f"Running stage '{name}' ({_describe(reasons)}):")
                code = self._run_commands(stage)
                if code != 0:
                    how = (
                        f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                    )
                    return StageResult(name, FAILED, reasons, code, f"command {how}")
                with self.book:
                    self._commit(stage, deps_locked, params)
            return StageResult(name, RAN, reasons)
        except GitmlError as exc:
            message = exc.message.removeprefix(f"stage '{name}': ")
            return StageResult(name, FAILED, reasons, message=message)

    def _check_inputs(self, stage: Stage, paths: Mapping[str, LockedPath | None]) -> None:
        for dep in stage.deps:
            if paths.get(dep) is None:
                producer = self.graph.producer_of(dep)
                hint = f" (produced by stage '{producer}')" if producer else ""
                raise PipelineError(f"stage '{stage.name}': dependency '{dep}' is missing{hint}")

    def _try_run_cache(
        self, stage: Stage, deps: tuple[LockedPath, ...], params: ParamValues
    ) -> bool:
        from gitml.pipeline import runcache

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
        from gitml.pipeline import runcache

        if not self.options.run_cache or self.options.force or not runcache.eligible(stage):
            return None
        return runcache.run_key(
            stage.cmd, stage.cmd_is_list, stage.wdir, deps, params, [o.path for o in stage.outs]
        )

    def _claim(self, key: str | None) -> contextlib.AbstractContextManager[None]:
        """Experiments in parallel worktrees share the cache: the same run started twice
        at the same moment runs once; the second waits here, then restores it."""
        from gitml.pipeline import runcache

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
        linker = fsutil.Linker(self.ws.config.link_types)
        for out in outs:
            target = self.ws.abspath(out.path)
            fsutil.remove_path(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            if out.is_dir:
                manifest = self.ws.cache.load_manifest(out.oid)
                placed = place_dir(
                    self.ws.cache, out.path, target, manifest, [], linker, lambda _n: None
                )
                for rel, path, oid in placed.placed:
                    if not os.path.islink(path):
                        self.ws.state.put(rel, os.stat(path), oid)
            else:
                place_file(self.ws.cache, target, out.oid, out.executable, linker)
                if not target.is_symlink():
                    self.ws.state.put(out.path, os.stat(target), out.oid)
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
        argv = _shell_argv(command)
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
        from gitml.ops.add import store_observed
        from gitml.pipeline import runcache

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


def _detach(path: object) -> None:
    """A persisted out that is a link into the cache gets a private copy before it is edited."""
    from pathlib import Path

    assert isinstance(path, Path)
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


def plan(ws: Workspace, options: ReproOptions) -> list[StageResult]:
    """--dry: what would run and why, changing nothing (beyond the stat cache)."""
    from gitml.pipeline import runcache

    pipeline, graph = load(ws)
    order = select(pipeline, graph, options)
    check_sources(ws, pipeline, graph, order)
    lock = Locks.load(ws.root, pipeline)
    results: list[StageResult] = []
    will_run: set[str] = set()
    # Outs that stages restored from the run-cache would put in place: downstream stages
    # are judged against them, as the real repro judges them after the restore.
    restored: dict[str, LockedPath] = {}
    try:
        for name in order:
            stage = pipeline.stages[name]
            if stage.frozen:
                results.append(StageResult(name, FROZEN))
                continue
            observed = observe_stage(ws, stage)
            if restored:
                paths = {p: restored.get(p, v) for p, v in observed.paths.items()}
                observed = Observed(paths, observed.params)
            if options.force:
                reasons = [Reason(ReasonKind.FORCED)]
            else:
                reasons = why_stale(stage, lock.entries.get(name), observed)
            upstream = sorted(p for p in graph.parents[name] if p in will_run)
            if not reasons and upstream:
                reasons = [Reason(ReasonKind.UPSTREAM, upstream[0])]
            if not reasons:
                results.append(StageResult(name, UNCHANGED))
                continue
            outcome = WOULD_RUN
            if (
                options.run_cache
                and not options.force
                and not upstream
                and runcache.eligible(stage)
                and not missing_deps(stage, observed)
                and not missing_params(observed)
            ):
                deps = tuple(p for d in stage.deps if (p := observed.paths[d]) is not None)
                key = runcache.run_key(
                    stage.cmd, stage.cmd_is_list, stage.wdir, deps, param_values(observed),
                    [o.path for o in stage.outs],
                )  # fmt: skip
                hit = runcache.lookup(ws.cache, key)
                if hit is not None:
                    outcome = WOULD_RESTORE
                    restored.update({o.path: o for o in hit.entry.outs})
            if outcome == WOULD_RUN:
                will_run.add(name)
            results.append(StageResult(name, outcome, reasons))
    finally:
        ws.state.save()
    return results


def repro(
    ws: Workspace,
    options: ReproOptions,
    emit: Emit,
    output: Output,
    source: RunSource | None = None,
) -> ReproResult:
    """Run what is stale; `source` (later: a remote, for --pull) supplies run-cache entries."""
    if options.dry:
        return ReproResult(plan(ws, options))
    with ws.locked():
        pipeline, graph = load(ws)
        order = select(pipeline, graph, options)
        check_sources(ws, pipeline, graph, order)
        lock = Locks.load(ws.root, pipeline)
        runner = _Runner(ws, pipeline, graph, lock, options, emit, output, source)
        try:
            results = runner.run(order)
        finally:
            ws.state.save()
        return ReproResult(results, list(runner.touched))
