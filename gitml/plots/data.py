"""Plot files at a revision and what they hold: the bytes come from git when the file is
committed, else from the cache (or the default remote) through the gitml.lock of that
revision; in the work tree, from disk. Tables (CSV, TSV, JSON, YAML) become rows."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import git
from gitml.errors import FormatError, PathError
from gitml.hashing import Oid
from gitml.objects import ObjectSource
from gitml.pipeline import LOCK_FILE
from gitml.plots.definitions import PlotDef

Row = dict[str, Any]
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Revision:
    label: str  # as the user named it, or "workspace"
    commit: str | None  # None: the work tree


class RevisionFiles:
    """Reads files at one revision through one long-lived `git cat-file --batch`."""

    def __init__(self, root: Path, cat: git.CatFile, source: ObjectSource) -> None:
        self.root = root
        self.cat = cat
        self.source = source
        self._locks: dict[str, dict[str, tuple[Oid, int]]] = {}

    def _locked_outs(self, commit: str, label: str) -> dict[str, tuple[Oid, int]]:
        if commit not in self._locks:
            from gitml.pipeline.lockfile import parse_lock

            raw = self.cat.read_path(commit, LOCK_FILE)
            outs: dict[str, tuple[Oid, int]] = {}
            if raw is not None:
                for entry in parse_lock(raw, f"{label}:{LOCK_FILE}").values():
                    for out in entry.outs:
                        if not out.is_dir:
                            outs[out.path] = (out.oid, out.size)
            self._locks[commit] = outs
        return self._locks[commit]

    def read(self, rev: Revision, relpath: str) -> bytes | None:
        """The file's bytes at `rev`, or None when that revision has no such file."""
        if rev.commit is None:
            try:
                return (self.root / relpath).read_bytes()
            except FileNotFoundError:
                return None
            except IsADirectoryError:
                raise PathError(f"{relpath}: is a directory, not a plot file") from None
        data = self.cat.read_path(rev.commit, relpath)
        if data is not None:
            return data
        locked = self._locked_outs(rev.commit, rev.label).get(relpath)
        if locked is None:
            return None
        oid, size = locked
        with self.source.open(oid, size, f"{rev.label}:{relpath}") as stream:
            data = stream.read()
        assert isinstance(data, bytes)
        return data


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _delimited(data: bytes, delimiter: str, header: bool, where: str) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: not a table (not UTF-8 text)") from None
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    lines = [line for line in reader if line]
    if not lines:
        raise FormatError(f"{where}: not a table (the file is empty)")
    names = lines[0] if header else [str(i) for i in range(len(lines[0]))]
    body = lines[1:] if header else lines
    if len(set(names)) != len(names) or not all(names):
        raise FormatError(f"{where}: not a table (the header row has empty or repeated names)")
    rows = []
    for number, line in enumerate(body[:MAX_ROWS], start=2 if header else 1):
        if len(line) != len(names):
            raise FormatError(
                f"{where}:{number}: not a table ({len(line)} fields, the header has {len(names)})"
            )
        rows.append({n: _number(v) for n, v in zip(names, line, strict=True)})
    return rows


def _records(value: Any, where: str) -> list[Row]:
    """A list of mappings, or a mapping whose one list of mappings is the table (DVC's
    `{"train": [{...}, ...]}`)."""
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            value = lists[0]
    if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
        raise FormatError(f"{where}: not a table (expected a list of records with named fields)")
    return [{str(k): v for k, v in r.items()} for r in value[:MAX_ROWS]]


def parse_table(data: bytes, relpath: str, where: str, header: bool = True) -> list[Row]:
    suffix = relpath.rsplit(".", 1)[-1].lower() if "." in relpath else ""
    if suffix == "csv":
        return _delimited(data, ",", header, where)
    if suffix == "tsv":
        return _delimited(data, "\t", header, where)
    if suffix == "json":
        try:
            return _records(json.loads(data), where)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FormatError(f"{where}: not a table (invalid JSON: {exc})") from None
    if suffix in ("yaml", "yml"):
        from gitml.pipeline.yamlio import load_yaml

        return _records(load_yaml(data, where), where)
    raise FormatError(f"{where}: not a table (use .csv, .tsv, .json or .yaml)")


def fields_of(plot: PlotDef, rows: list[Row], where: str) -> tuple[str | None, tuple[str, ...]]:
    """(x field or None for the row number, y fields), each checked against the rows."""
    names = list(rows[0])
    available = ", ".join(names)
    for name in [plot.x, *plot.y]:
        if name is not None and not any(name in r for r in rows):
            raise FormatError(f"{where}: no field '{name}' (fields: {available})")
    ys = plot.y or (names[-1],)
    return plot.x, ys
