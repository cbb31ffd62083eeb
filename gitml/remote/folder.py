"""The file operations `RemoteStore` uses, on a local folder, with os and shutil.

fsspec's LocalFileSystem does the same job but `import fsspec` costs ~80 ms, a third of a
`gitml status --remote` on a folder remote. Semantics follow LocalFileSystem(auto_mkdir=True)
where RemoteStore relies on them: missing paths raise FileNotFoundError, writes create
parent folders, `ls`/`find` return full paths, `find` of a missing folder is empty.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from typing import IO, Any


class FolderFS:
    protocol = "file"

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **_: Any
    ) -> bytes:
        with open(path, "rb") as stream:
            if start is None and end is None:
                return stream.read()
            size = os.fstat(stream.fileno()).st_size
            first = _offset(start or 0, size)
            last = size if end is None else _offset(end, size)
            stream.seek(first)
            return stream.read(max(0, last - first))

    def ls(self, path: str, detail: bool = False) -> list[str]:
        if detail:
            raise NotImplementedError("FolderFS.ls lists names only")
        if os.path.isfile(path):
            return [path]
        with os.scandir(path) as entries:
            return sorted(f"{path}/{entry.name}" for entry in entries)

    def find(self, path: str) -> list[str]:
        if os.path.isfile(path):
            return [path]
        found: list[str] = []
        for folder, _, files in os.walk(path):
            found.extend(f"{folder}/{name}" for name in files)
        return sorted(found)

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def pipe_file(self, path: str, data: bytes, **_: Any) -> None:
        _make_parent(path)
        with open(path, "wb") as stream:
            stream.write(data)

    def pipe_parts(self, path: str, parts: Iterable[bytes | bytearray | memoryview]) -> None:
        _make_parent(path)
        with open(path, "wb") as stream:
            for part in parts:
                stream.write(part)

    def put_file(self, source: str, target: str, **_: Any) -> None:
        _make_parent(target)
        shutil.copyfile(source, target)

    def get_file(self, source: str, target: str, **_: Any) -> None:
        _make_parent(target)
        shutil.copyfile(source, target)

    def mv(self, source: str, target: str) -> None:
        _make_parent(target)
        os.replace(source, target)

    def rm_file(self, path: str) -> None:
        os.remove(path)

    def rm(self, paths: str | Iterable[str]) -> None:
        for path in [paths] if isinstance(paths, str) else paths:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def open(self, path: str, mode: str = "rb", **_: Any) -> IO[Any]:
        if "r" not in mode:
            _make_parent(path)
        return open(path, mode)

    def unstrip_protocol(self, path: str) -> str:
        return f"file://{path}"


def _offset(value: int, size: int) -> int:
    return max(0, size + value) if value < 0 else min(value, size)


def _make_parent(path: str) -> None:
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
