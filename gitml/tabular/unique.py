"""Counting repeated values of a column with bounded memory.

Values are kept in memory until they pass `memory_budget` bytes; after that every value
(those kept, and all that follow) is written to one of `partitions` Arrow IPC files under
a temporary folder, chosen by a function of the value, so that equal values always land
in the same file. Each file is then counted on its own: memory is about one partition
(rows / partitions values), and disk is about one copy of the column.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

MEMORY_BUDGET = 64 << 20  # of values; counting them takes several times more
PARTITIONS = 64


def _partition_ids(values: Any, partitions: int) -> Any:
    """A partition per value: its text's length and last three bytes, mixed.

    Not a cryptographic hash (pyarrow has no hash kernel): it only has to send equal
    values to the same partition and spread typical ids (counters, UUIDs, e-mails) evenly.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = values.cast(pa.string()).cast(pa.binary())
    mixed = pc.cast(pc.binary_length(text), pa.int64())
    byte_values = pa.array([bytes([i]) for i in range(256)], pa.binary())
    for k, factor in ((1, 1), (2, 31), (3, 977)):
        stop = -k + 1 if k > 1 else None
        tail = pc.binary_slice(text, -k, stop)
        code = pc.fill_null(pc.index_in(tail, value_set=byte_values), 0)
        mixed = pc.add(mixed, pc.multiply(pc.cast(code, pa.int64()), factor))
    return pc.bit_wise_and(mixed, partitions - 1)


class DuplicateCounter:
    """Feed non-null values with `add`; `finish` gives (rows repeating an earlier value,
    one repeated value)."""

    def __init__(
        self,
        tmp_root: Path | None,
        memory_budget: int = MEMORY_BUDGET,
        partitions: int = PARTITIONS,
    ) -> None:
        self.tmp_root = tmp_root
        self.memory_budget = memory_budget
        self.partitions = partitions
        self._kept: list[Any] = []
        self._kept_bytes = 0
        self._folder: Path | None = None
        self._writers: list[Any] = []
        self.spilled = False

    def add(self, values: Any) -> None:
        if len(values) == 0:
            return
        if self.spilled:
            self._spill(values)
            return
        self._kept.append(values)
        self._kept_bytes += values.nbytes
        if self._kept_bytes > self.memory_budget:
            self._start_spilling(values.type)

    def _start_spilling(self, value_type: Any) -> None:
        import pyarrow as pa

        if self.tmp_root is not None:
            self.tmp_root.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix="unique-", dir=self.tmp_root))
        schema = pa.schema([("v", value_type)])
        self._writers = [
            pa.ipc.new_stream(str(self._folder / f"{i:03d}.arrow"), schema)
            for i in range(self.partitions)
        ]
        self.spilled = True
        kept, self._kept, self._kept_bytes = self._kept, [], 0
        for values in kept:
            self._spill(values)

    def _spill(self, values: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = _partition_ids(values, self.partitions)
        order = pc.sort_indices(ids)
        ordered = values.take(order)
        sorted_ids = ids.take(order)
        counts = pc.value_counts(sorted_ids)
        start = 0
        for item in sorted(counts.to_pylist(), key=lambda c: c["values"]):
            n = item["counts"]
            chunk = ordered.slice(start, n)
            self._writers[item["values"]].write_batch(
                pa.RecordBatch.from_arrays([chunk], names=["v"])
            )
            start += n

    def finish(self) -> tuple[int, Any]:
        try:
            if not self.spilled:
                return _repeats(self._kept)
            for writer in self._writers:
                writer.close()
            total, example = 0, None
            assert self._folder is not None
            for path in sorted(self._folder.iterdir()):
                import pyarrow as pa

                with pa.memory_map(str(path)) as source:
                    table = pa.ipc.open_stream(source).read_all()
                repeated, first = _repeats(table.column("v").chunks)
                total += repeated
                example = example if example is not None else first
            return total, example
        finally:
            self.close()

    def close(self) -> None:
        self._kept = []
        if self._folder is not None:
            for writer in self._writers:
                with contextlib.suppress(Exception):
                    writer.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _repeats(chunks: list[Any]) -> tuple[int, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not chunks:
        return 0, None
    counts = pc.value_counts(pa.chunked_array(chunks))
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return 0, None
    extra = pc.sum(pc.subtract(repeated.field("counts"), 1)).as_py()
    return int(extra), repeated.field("values")[0].as_py()
