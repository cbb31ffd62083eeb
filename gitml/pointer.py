"""Pointer files (`<path>.gitml`): the small text git holds for a tracked output.

Exactly one valid encoding (docs/spec/pointer.md)::

    gitml-pointer: 1
    kind: file | dir
    oid: blake3:<64 hex>
    size: <bytes>
    nfiles: <count>          (dir only)
    executable: true         (file only, present only when true)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitml.errors import FormatError
from gitml.hashing import Oid

POINTER_SUFFIX = ".gitml"
FORMAT_VERSION = "1"
MAX_POINTER_BYTES = 1024

Kind = Literal["file", "dir"]


@dataclass(frozen=True)
class Pointer:
    kind: Kind
    oid: Oid
    size: int
    nfiles: int | None = None
    executable: bool = False

    def __post_init__(self) -> None:
        if self.kind == "dir" and self.nfiles is None:
            raise ValueError("a dir pointer needs nfiles")
        if self.kind == "file" and self.nfiles is not None:
            raise ValueError("a file pointer has no nfiles")
        if self.kind == "dir" and self.executable:
            raise ValueError("a dir pointer is never executable")

    def render(self) -> str:
        lines = [
            f"gitml-pointer: {FORMAT_VERSION}",
            f"kind: {self.kind}",
            f"oid: {self.oid}",
            f"size: {self.size}",
        ]
        if self.kind == "dir":
            lines.append(f"nfiles: {self.nfiles}")
        elif self.executable:
            lines.append("executable: true")
        return "\n".join(lines) + "\n"


def _parse_count(value: str, key: str, where: str) -> int:
    if not value.isdigit() or (len(value) > 1 and value[0] == "0") or not value.isascii():
        raise FormatError(f"{where}: {key} must be a non-negative integer, got {value[:40]!r}")
    return int(value)


def parse_pointer(data: bytes, where: str) -> Pointer:
    """Parse pointer bytes strictly; `where` names the file in errors."""
    if len(data) > MAX_POINTER_BYTES:
        raise FormatError(f"{where}: not a gitml pointer (larger than {MAX_POINTER_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: not a gitml pointer (not UTF-8)") from None
    if not text.endswith("\n") or "\r" in text:
        raise FormatError(f"{where}: malformed pointer (lines must end with a single LF)")
    fields: list[tuple[str, str]] = []
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        key, sep, value = line.partition(": ")
        if not sep or not key or not value:
            raise FormatError(f"{where}:{number}: malformed pointer line {line[:60]!r}")
        fields.append((key, value))
    keys = [key for key, _ in fields]
    values = dict(fields)
    if keys[:1] != ["gitml-pointer"]:
        raise FormatError(f"{where}: not a gitml pointer (first line must be 'gitml-pointer: 1')")
    if values["gitml-pointer"] != FORMAT_VERSION:
        raise FormatError(
            f"{where}: pointer format {values['gitml-pointer']!r} is not supported by this gitml"
        )
    kind = values.get("kind")
    if kind == "dir":
        expected = ["gitml-pointer", "kind", "oid", "size", "nfiles"]
    elif kind == "file":
        expected = ["gitml-pointer", "kind", "oid", "size"]
        if "executable" in values:
            expected.append("executable")
    else:
        raise FormatError(f"{where}: kind must be 'file' or 'dir', got {str(kind)[:20]!r}")
    if keys != expected:
        raise FormatError(f"{where}: malformed pointer: expected keys {expected}, got {keys}")
    try:
        oid = Oid.parse(values["oid"])
    except FormatError as exc:
        raise FormatError(f"{where}: {exc}") from None
    size = _parse_count(values["size"], "size", where)
    if kind == "dir":
        nfiles = _parse_count(values["nfiles"], "nfiles", where)
        return Pointer("dir", oid, size, nfiles=nfiles)
    if "executable" in values and values["executable"] != "true":
        raise FormatError(f"{where}: executable must be 'true' when present")
    return Pointer("file", oid, size, executable="executable" in values)


def pointer_path_for(relpath: str) -> str:
    return relpath + POINTER_SUFFIX


def output_path_for(pointer_relpath: str) -> str:
    if not pointer_relpath.endswith(POINTER_SUFFIX) or pointer_relpath == POINTER_SUFFIX:
        raise ValueError(f"{pointer_relpath} is not a pointer path")
    return pointer_relpath[: -len(POINTER_SUFFIX)]
