"""Directory manifests: the canonical listing of a tracked directory, stored as an object.

Exactly one valid encoding (docs/spec/manifest.md)::

    gitml-manifest 1\n
    <oid> <size> <x|-> <relpath>\n      one line per file, sorted by UTF-8 bytes of relpath
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from gitml.errors import FormatError, PathError
from gitml.hashing import Oid, hash_bytes
from gitml.paths import validate_relpath

HEADER = b"gitml-manifest 1\n"


@dataclass(frozen=True, order=True)
class Entry:
    relpath: str
    oid: Oid
    size: int
    executable: bool = False


@dataclass(frozen=True)
class Manifest:
    entries: tuple[Entry, ...]

    @classmethod
    def build(cls, entries: Iterable[Entry], *, from_filesystem: bool = False) -> Manifest:
        """Sort entries into a manifest; entries read from a real directory can't clash."""
        ordered = sorted(entries, key=lambda e: e.relpath.encode("utf-8"))
        for before, after in itertools.pairwise(ordered):
            if before.relpath == after.relpath:
                raise FormatError(f"duplicate manifest entry {before.relpath!r}")
        if not from_filesystem:
            _check_no_file_dir_clash(ordered, "manifest")
        return cls(tuple(ordered))

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def nfiles(self) -> int:
        return len(self.entries)

    def render(self) -> bytes:
        return self._rendered

    @cached_property
    def _rendered(self) -> bytes:  # entries are immutable; 20,000 of them take 30 ms
        lines = [HEADER]
        for e in self.entries:
            flag = "x" if e.executable else "-"
            lines.append(f"{e.oid} {e.size} {flag} {e.relpath}\n".encode())
        return b"".join(lines)

    def oid(self) -> Oid:
        return self._oid

    @cached_property
    def _oid(self) -> Oid:
        return hash_bytes(self.render())

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def by_path(self) -> dict[str, Entry]:
        return {e.relpath: e for e in self.entries}


def _check_no_file_dir_clash(ordered: list[Entry], where: str) -> None:
    paths = {e.relpath for e in ordered}
    for e in ordered:
        parts = e.relpath.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in paths:
                raise FormatError(f"{where}: {prefix!r} is both a file and a directory")


def parse_manifest(data: bytes, where: str) -> Manifest:
    """Parse manifest bytes strictly; every relpath is validated as untrusted input."""
    if not data.startswith(HEADER):
        raise FormatError(f"{where}: not a gitml manifest (bad header)")
    body = data[len(HEADER) :]
    if body and not body.endswith(b"\n"):
        raise FormatError(f"{where}: truncated manifest (no final newline)")
    entries: list[Entry] = []
    previous: bytes | None = None
    for number, raw in enumerate(body.split(b"\n")[:-1] if body else [], start=2):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{where}:{number}: not UTF-8") from None
        parts = line.split(" ", 3)
        if len(parts) != 4:
            raise FormatError(f"{where}:{number}: malformed manifest line")
        oid_text, size_text, flag, relpath = parts
        try:
            oid = Oid.parse(oid_text)
        except FormatError as exc:
            raise FormatError(f"{where}:{number}: {exc}") from None
        try:
            validate_relpath(relpath, what=f"{where}:{number}")
        except PathError as exc:
            raise FormatError(str(exc)) from None
        if (
            not size_text.isdigit()
            or not size_text.isascii()
            or (len(size_text) > 1 and size_text[0] == "0")
        ):
            raise FormatError(f"{where}:{number}: bad size {size_text[:20]!r}")
        if flag not in ("x", "-"):
            raise FormatError(f"{where}:{number}: bad mode flag {flag[:5]!r}")
        key = relpath.encode("utf-8")
        if previous is not None and key <= previous:
            raise FormatError(f"{where}:{number}: entries not sorted or duplicated")
        previous = key
        entries.append(Entry(relpath, oid, int(size_text), flag == "x"))
    _check_no_file_dir_clash(entries, where)
    return Manifest(tuple(entries))
