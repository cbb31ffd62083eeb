"""`gitml://`: an fsspec filesystem over the tracked data of one revision of a repository.

Registered through the `fsspec.specs` entry point, so that::

    import fsspec
    with fsspec.open("gitml://data/train.parquet", rev="v1", repo=".") as f:
        ...

    import pyarrow.dataset as ds
    fs = GitmlFileSystem(repo="https://github.com/org/project.git", rev="v2")
    dataset = ds.dataset("data/parts", filesystem=fs, format="parquet")

    import pandas as pd
    df = pd.read_csv("gitml://data/train.csv", storage_options={"rev": "v1", "repo": "."})

Storage options: `repo` (local path or git URL; default the workspace around the current
directory), `rev` (default: the work tree's pointers for a local workspace, else HEAD),
`remote` (a remote name of that repository). Paths are relative to the repository root.
The tree holds the tracked outputs, the folders leading to them and the files inside
tracked directories; files kept in git itself are not shown. Read-only; reads are
verified as described in gitml.api.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from fsspec.spec import AbstractFileSystem

from gitml.errors import GitmlError
from gitml.outputs import TrackedOutput
from gitml.repo import DataRepo


class GitmlFileSystem(AbstractFileSystem):  # type: ignore[misc]
    protocol = "gitml"
    root_marker = ""
    cachable = False  # each instance is one revision's snapshot, taken when it is made

    def __init__(
        self,
        repo: str | None = None,
        rev: str | None = None,
        remote: str | None = None,
        **storage_options: Any,
    ) -> None:
        super().__init__(**storage_options)
        self._data_repo = DataRepo.open(repo, rev)
        self._finalizer = weakref.finalize(self, self._data_repo.close)
        try:
            self._source = self._data_repo.source(remote)
            self._snapshot = self._data_repo.snapshot(rev, self._source)
        except BaseException:
            self._finalizer()
            raise
        self.rev = self._snapshot.label
        self._lock = threading.Lock()
        self._dirs: dict[str, dict[str, dict[str, Any]]] = {"": {}}
        for output in self._snapshot.outputs.values():
            self._add_parents(output.path)
            self._dirs[_parent(output.path)][output.path] = self._output_info(output)
        self._expanded: set[str] = set()

    # Tree ----------------------------------------------------------------------------

    def _add_parents(self, path: str) -> None:
        """Make the folders above `path` (top-down), each listed in its own parent."""
        missing = []
        parent = _parent(path)
        while parent not in self._dirs:
            missing.append(parent)
            parent = _parent(parent)
        for folder in reversed(missing):
            self._dirs[folder] = {}
            self._dirs[_parent(folder)][folder] = _dir_info(folder)

    def _output_info(self, output: TrackedOutput) -> dict[str, Any]:
        p = output.pointer
        if p.kind == "dir":
            return {**_dir_info(output.path), "size": p.size, "nfiles": p.nfiles, "oid": str(p.oid)}
        return {
            "name": output.path,
            "type": "file",
            "size": p.size,
            "oid": str(p.oid),
            "executable": p.executable,
        }

    def _expand(self, output: TrackedOutput) -> None:
        """Add the files (and folders) of a tracked directory, from its manifest."""
        with self._lock:
            if output.path in self._expanded:
                return
            self._dirs.setdefault(output.path, {})
            for ref in self._snapshot.files(output):
                self._add_parents(ref.path)
                self._dirs[_parent(ref.path)][ref.path] = {
                    "name": ref.path,
                    "type": "file",
                    "size": ref.size,
                    "oid": str(ref.oid),
                    "executable": ref.executable,
                }
            self._expanded.add(output.path)

    def _entry(self, path: str) -> dict[str, Any] | None:
        path = self._strip_protocol(path)
        if path == "":
            return _dir_info("")
        owner = self._snapshot.owner(path)
        if owner is not None and owner.pointer.kind == "dir":
            self._wrap(self._expand, owner)
        return self._dirs.get(_parent(path), {}).get(path)

    def _wrap(self, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except GitmlError as exc:
            raise OSError(f"gitml: {exc.message}") from exc

    # fsspec API ---------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        text = str(path)
        if text.startswith("gitml://"):
            text = text[len("gitml://") :]
        elif text.startswith("gitml:"):
            text = text[len("gitml:") :]
        text = text.strip("/")
        while text.startswith("./"):
            text = text[2:]
        return "" if text == "." else text

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        entry = self._entry(path)
        if entry is None:
            raise FileNotFoundError(path)
        if entry["type"] == "file":
            return [entry] if detail else [entry["name"]]
        children = sorted(self._dirs.get(path, {}).values(), key=lambda e: e["name"])
        return children if detail else [e["name"] for e in children]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        entry = self._entry(path)
        if entry is None:
            raise FileNotFoundError(path)
        return dict(entry)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if mode != "rb":
            raise PermissionError(f"gitml:// is read-only (mode {mode!r})")
        path = self._strip_protocol(path)
        entry = self._entry(path)
        if entry is None:
            raise FileNotFoundError(path)
        if entry["type"] != "file":
            raise IsADirectoryError(path)
        ref = self._wrap(self._snapshot.resolve_file, path)
        label = path if self.rev == "workspace" else f"{self.rev}:{path}"
        return self._wrap(self._source.open, ref.oid, ref.size, label)

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        size = int(self.info(path)["size"])
        begin = 0 if start is None else (start if start >= 0 else max(0, size + start))
        stop = size if end is None else (end if end >= 0 else size + end)
        with self._open(path) as f:
            if begin:
                f.seek(begin)
            data: bytes = f.read(max(0, stop - begin))
            return data

    def close(self) -> None:
        """Stop the git reader and remove a temporary clone (also done at exit)."""
        self._finalizer()


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _dir_info(path: str) -> dict[str, Any]:
    return {"name": path, "type": "directory", "size": 0}
