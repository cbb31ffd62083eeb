"""Tabular data as a stream of record batches: Parquet, CSV/TSV, JSON lines, Arrow IPC
(Feather v2), and folders of them read as one dataset, from the work tree or at any
revision (through the cache, then the remote, verified as gitml.api reads are).

Memory does not grow with rows: every reader yields batches of at most `batch_rows`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import DataFormatError, PathError

if TYPE_CHECKING:
    import pyarrow as pa

    from gitml.workspace import Workspace

FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
}
_NAMES = {
    "parquet": "Parquet",
    "csv": "CSV",
    "tsv": "TSV",
    "json": "JSON lines",
    "ipc": "Arrow IPC",
}
BATCH_ROWS = 128 * 1024


def format_of(name: str) -> str | None:
    return FORMATS.get(os.path.splitext(name)[1].lower())


@dataclass(frozen=True)
class DataFile:
    name: str  # as messages show it: "data/x.parquet" or "v1:data/x.parquet"
    fmt: str
    size: int
    open: Callable[[], Any]  # a local path (str) or a binary file object


class Dataset:
    """One file or a folder of files read as one table."""

    def __init__(
        self,
        label: str,
        files: list[DataFile],
        content_id: str | None,
        owner_id: str | None = None,
    ) -> None:
        self.label = label
        self.files = files
        self.content_id = content_id  # the data's id at a revision; None in the work tree
        self.owner_id = owner_id  # a folder inside a tracked directory: the directory's id
        self._schema: pa.Schema | None = None

    @property
    def schema(self) -> pa.Schema:
        """The columns of all files together (a column missing from a file reads as null)."""
        if self._schema is None:
            import pyarrow as pa

            schemas = [_file_schema(f) for f in self.files]
            try:
                self._schema = pa.unify_schemas(schemas, promote_options="permissive")
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise DataFormatError(
                    f"{self.label}: files in this folder have clashing column types ({_short(exc)})"
                ) from None
        return self._schema

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS
    ) -> Iterator[pa.RecordBatch]:
        """Every row, in batches conforming to `schema` (restricted to `columns`)."""
        import pyarrow as pa

        target = self.schema
        if columns is not None:
            target = pa.schema([target.field(c) for c in columns])
        for data_file in self.files:
            for batch in _file_batches(data_file, batch_rows):
                yield _conform(batch, target, data_file.name)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _bad(data_file: DataFile, exc: BaseException) -> DataFormatError:
    return DataFormatError(
        f"{data_file.name}: not a readable {_NAMES[data_file.fmt]} file ({_short(exc)})"
    )


def _readable_errors() -> tuple[type[BaseException], ...]:
    import pyarrow as pa

    return (pa.ArrowException, ValueError, UnicodeDecodeError)


def _file_schema(data_file: DataFile) -> pa.Schema:
    if data_file.fmt in ("parquet", "ipc"):
        try:
            with _opened(data_file) as reader:
                return reader.schema_arrow if data_file.fmt == "parquet" else reader.schema
        except _readable_errors() as exc:
            raise _bad(data_file, exc) from None
    for batch in _file_batches(data_file, BATCH_ROWS):
        return batch.schema
    raise DataFormatError(f"{data_file.name}: empty file (no columns)")


class _opened:
    """A Parquet or IPC reader over a DataFile, closing what it opened."""

    def __init__(self, data_file: DataFile) -> None:
        self.data_file = data_file
        self.handle: Any = None

    def __enter__(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.handle = self.data_file.open()
        if self.data_file.fmt == "parquet":
            # No pre-buffering: it reads whole row groups (often 1M rows) ahead.
            return pq.ParquetFile(self.handle, pre_buffer=False, buffer_size=1 << 20)
        source = pa.memory_map(self.handle) if isinstance(self.handle, str) else self.handle
        try:
            return pa.ipc.open_file(source)
        except pa.ArrowInvalid:
            if isinstance(self.handle, str):
                return pa.ipc.open_stream(pa.memory_map(self.handle))
            self.handle.seek(0)
            return pa.ipc.open_stream(self.handle)

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None and not isinstance(self.handle, str):
            self.handle.close()


def _file_batches(data_file: DataFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
    if data_file.size == 0:
        raise DataFormatError(f"{data_file.name}: empty file")
    try:
        if data_file.fmt in ("parquet", "ipc"):
            with _opened(data_file) as reader:
                if data_file.fmt == "parquet":
                    yield from reader.iter_batches(batch_size=batch_rows)
                elif hasattr(reader, "num_record_batches"):
                    for i in range(reader.num_record_batches):
                        yield from _sliced(reader.get_batch(i), batch_rows)
                else:
                    for batch in reader:
                        yield from _sliced(batch, batch_rows)
            return
        yield from _text_batches(data_file)
    except _readable_errors() as exc:
        raise _bad(data_file, exc) from None


def _sliced(batch: pa.RecordBatch, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for offset in range(0, max(batch.num_rows, 1), batch_rows):
        yield batch.slice(offset, batch_rows)


def _text_batches(data_file: DataFile) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson

    handle = data_file.open()
    try:
        block = 8 << 20
        if data_file.fmt == "json":
            reader: Any = pjson.open_json(handle, read_options=pjson.ReadOptions(block_size=block))
        else:
            delimiter = "\t" if data_file.fmt == "tsv" else ","
            reader = pcsv.open_csv(
                handle,
                read_options=pcsv.ReadOptions(block_size=block),
                parse_options=pcsv.ParseOptions(delimiter=delimiter),
                convert_options=pcsv.ConvertOptions(strings_can_be_null=True),
            )
        yield from reader
    finally:
        if not isinstance(handle, str):
            handle.close()


def _conform(batch: pa.RecordBatch, target: pa.Schema, name: str) -> pa.RecordBatch:
    if batch.schema.equals(target):
        return batch
    import pyarrow as pa

    arrays = []
    for field in target:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            arrays.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(index)
        try:
            arrays.append(column if column.type == field.type else column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DataFormatError(
                f"{name}: column {field.name} cannot be read as {field.type} ({_short(exc)})"
            ) from None
    return pa.RecordBatch.from_arrays(arrays, schema=target)


# Opening ---------------------------------------------------------------------------------


def _local_files(base: Path, shown: str) -> list[DataFile]:
    if base.is_file():
        fmt = format_of(base.name)
        if fmt is None:
            raise DataFormatError(f"{shown}: not a tabular file (expected {_expected()})")
        return [DataFile(shown, fmt, base.stat().st_size, _path_opener(str(base)))]
    if not base.is_dir():
        raise PathError(f"{shown}: no such file or directory")
    found = []
    for folder, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for file_name in sorted(names):
            fmt = format_of(file_name)
            if fmt is None or file_name.startswith((".", "_")):
                continue
            path = Path(folder) / file_name
            rel = path.relative_to(base).as_posix()
            found.append(
                DataFile(f"{shown}/{rel}", fmt, path.stat().st_size, _path_opener(str(path)))
            )
    if not found:
        raise DataFormatError(f"{shown}: no tabular files in this folder (expected {_expected()})")
    return found


def _path_opener(path: str) -> Callable[[], Any]:
    return lambda: path


def _object_opener(source: Any, ref: Any, name: str) -> Callable[[], Any]:
    return lambda: source.open(ref.oid, ref.size, name)


def _expected() -> str:
    return ", ".join(sorted(FORMATS))


def open_local(path: str | os.PathLike[str], shown: str | None = None) -> Dataset:
    """A file or folder on disk (the work tree, or anywhere)."""
    text = os.fspath(path)
    label = shown or text
    return Dataset(label, _local_files(Path(text), label), None)


def open_at_revision(ws: Workspace, path: str, rev: str) -> Dataset:
    """`path` (workspace-relative) as tracked at git revision `rev` (any form
    gitml.revisions accepts); bytes from the cache or the default remote, verified."""
    from gitml.repo import DataRepo

    data_repo = DataRepo.for_workspace(ws)
    source = data_repo.source(None)
    try:
        snapshot = data_repo.snapshot(rev, source)
    finally:
        data_repo.cat.close()
    output = snapshot.owner(path)
    if output is None:
        raise PathError(f"{path} is not tracked by gitml at {rev}")
    refs = [
        ref for ref in snapshot.files(output) if ref.path == path or ref.path.startswith(path + "/")
    ]
    files = []
    for ref in refs:
        fmt = format_of(ref.path)
        if fmt is None or Path(ref.path).name.startswith((".", "_")):
            if ref.path == path:
                raise DataFormatError(f"{rev}:{path}: not a tabular file (expected {_expected()})")
            continue
        name = f"{rev}:{ref.path}"
        files.append(DataFile(name, fmt, ref.size, _object_opener(source, ref, name)))
    if not files:
        raise DataFormatError(
            f"{rev}:{path}: no tabular files in this folder (expected {_expected()})"
        )
    owner_id = str(output.pointer.oid)
    if output.path == path:
        return Dataset(f"{rev}:{path}", files, owner_id)
    return Dataset(f"{rev}:{path}", files, _combined_id(refs, path), owner_id)


def _combined_id(refs: list[Any], path: str) -> str:
    from gitml.hashing import hash_bytes

    lines = "".join(
        f"{ref.path[len(path) :]} {ref.oid}\n" for ref in sorted(refs, key=lambda r: r.path)
    )
    return str(hash_bytes(b"gitml-tabular-set 1\n" + lines.encode("utf-8")))


def open_dataset(ws: Workspace | None, path: str, rev: str | None) -> Dataset:
    """`path` as the user typed it: in the work tree, or at `rev` (needs a workspace)."""
    if rev is None:
        if ws is None:
            return open_local(path)
        abs_path = Path(path).resolve()
        return open_local(abs_path, ws.display(ws.relpath(path)) if _inside(ws, abs_path) else path)
    if ws is None:
        raise PathError("--rev needs a gitml workspace (run inside one)")
    return open_at_revision(ws, ws.relpath(path), rev)


def _inside(ws: Workspace, path: Path) -> bool:
    try:
        path.relative_to(ws.root)
    except ValueError:
        return False
    return True
