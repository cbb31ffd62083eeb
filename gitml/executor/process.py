"""`--executor process`: each action in a separate local worker process
(`python -m gitml.executor.worker`), the action on its stdin and the result on its stdout.

It runs the full protocol (scratch folder, inputs by id, outs hashed and stored by the
worker) without any cluster, so the default test suite covers the protocol with it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading

from gitml.errors import ExecutorError, FormatError
from gitml.executor.protocol import Action, ActionResult
from gitml.pipeline.model import Stage

_WORKER = (sys.executable, "-m", "gitml.executor.worker")


class ProcessEngine:
    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def run(self, action: Action, stage: Stage) -> ActionResult:
        if self._cancelled.is_set():
            raise ExecutorError("cancelled")
        # Its own session: Ctrl-C reaches the driver only, which then stops the worker.
        proc = subprocess.Popen(
            _WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        with self._lock:
            self._procs.add(proc)
        try:
            out, err = proc.communicate(action.to_json().encode())
        finally:
            with self._lock:
                self._procs.discard(proc)
        if self._cancelled.is_set():
            raise ExecutorError("cancelled")
        if proc.returncode != 0 or not out:
            code = proc.returncode
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise ExecutorError(
                f"the worker process {how} mid-stage" + (f": {last[0][:200]}" if last else "")
            )
        try:
            return ActionResult.from_json(out.decode("utf-8"))
        except (FormatError, UnicodeDecodeError) as exc:
            raise ExecutorError(f"the worker process answered nonsense: {exc}") from None

    def cancel(self, run_id: str) -> None:
        self._cancelled.set()
        with self._lock:
            for proc in self._procs:
                with contextlib.suppress(OSError):
                    proc.terminate()  # the worker stops its command, then exits

    def close(self) -> None:
        return None
