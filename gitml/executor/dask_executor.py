"""`--executor dask`: each action a task on a Dask cluster (`pip install 'gitml[dask]'`).

The cluster can be anything `distributed` connects to: a `dask scheduler` with `dask
worker`s, dask-jobqueue on Slurm/PBS, dask-kubernetes. Workers need gitml installed and
their own credentials for the remote; they never see the workspace. `-j` bounds how many
tasks run at once (the driver submits one per running stage); a stage's `resources:`
become Dask worker resources (`cpus`, `gpus`, `memory` in bytes) that some worker must
advertise, e.g. `dask worker ADDRESS --resources "cpus=8,gpus=1,memory=32e9"`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from typing import Any

from gitml.errors import ExecutorError, FormatError
from gitml.executor.protocol import Action, ActionResult
from gitml.executor.worker import kill_children, run_action
from gitml.pipeline.model import Resources, Stage

_QUIET = ("distributed", "distributed.client", "distributed.comm", "distributed.core")


def _connect(distributed: Any, address: str, timeout: float) -> Any:
    """A Client, or one line: Dask bounds the TCP connect by `timeout` but not the
    handshake after it, so a scheduler that accepts and never answers is timed here."""
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=timeout, set_as_default=False)
        except BaseException as exc:  # reported by the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="gitml-dask-connect")
    thread.start()
    thread.join(timeout + 0.5)
    if thread.is_alive() or "imed out" in str(box.get("error", "")):
        raise ExecutorError(f"Dask scheduler {address} did not answer within {timeout:g} s")
    error = box.get("error")
    if error is not None:
        raise ExecutorError(f"Dask scheduler {address}: {error}") from None
    return box["client"]


def dask_resources(resources: Resources) -> dict[str, float]:
    wanted = {"cpus": resources.cpus, "gpus": resources.gpus, "memory": resources.memory}
    return {name: float(value) for name, value in wanted.items() if value is not None}


class DaskEngine:
    def __init__(self, client: Any, address: str) -> None:
        self.client = client
        self.address = address
        self._futures: set[Any] = set()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    @classmethod
    def connect(cls, address: str | None, timeout: float) -> DaskEngine:
        if not address:
            raise ExecutorError(
                "--executor dask needs a scheduler: pass --address or set "
                "[executor] address in .gitml/config"
            )
        try:
            import distributed
        except ImportError:
            raise ExecutorError(
                "--executor dask needs Dask's distributed: pip install 'gitml[dask]'"
            ) from None
        levels = {name: logging.getLogger(name).level for name in _QUIET}
        for name in _QUIET:  # a refused connection is our one line, not Dask's log lines
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            client = _connect(distributed, address, timeout)
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
        return cls(client, address)

    def _check_resources(self, stage: Stage, wanted: dict[str, float]) -> None:
        if not wanted:
            return
        workers = self.client.scheduler_info().get("workers", {}).values()
        if not any(
            all(w.get("resources", {}).get(k, 0) >= v for k, v in wanted.items()) for w in workers
        ):
            asked = ",".join(f"{k}={v:g}" for k, v in wanted.items())
            raise ExecutorError(
                f"no worker of Dask scheduler {self.address} offers {asked} "
                f'(start workers with --resources "{asked}")'
            )

    def run(self, action: Action, stage: Stage) -> ActionResult:
        from distributed import KilledWorker  # lazy: dask is a heavy import

        wanted = dask_resources(stage.resources)
        self._check_resources(stage, wanted)
        if self._cancelled.is_set():
            raise ExecutorError("cancelled")
        future = self.client.submit(
            run_action, action.to_json(), key=f"gitml-{stage.name}-{uuid.uuid4().hex[:12]}",
            pure=False, resources=wanted or None, retries=0,
        )  # fmt: skip
        with self._lock:
            self._futures.add(future)
        try:
            text = future.result()
        except KilledWorker:
            raise ExecutorError("the Dask worker running it died mid-stage") from None
        except Exception as exc:
            if self._cancelled.is_set() or future.cancelled():
                raise ExecutorError("cancelled") from None
            raise ExecutorError(f"the Dask task failed: {type(exc).__name__}: {exc}") from None
        finally:
            with self._lock:
                self._futures.discard(future)
        try:
            return ActionResult.from_json(text)
        except FormatError as exc:
            raise ExecutorError(f"the Dask worker answered nonsense: {exc}") from None

    def cancel(self, run_id: str) -> None:
        self._cancelled.set()
        with self._lock:
            futures = list(self._futures)
        if futures:
            self.client.cancel(futures, force=True)
        # A running task's thread cannot be stopped from outside: each worker stops the
        # commands of this repro itself (and starts no more of them).
        with contextlib.suppress(Exception):
            self.client.run(kill_children, run_id, wait=True)

    def close(self) -> None:
        self.client.close()
