"""Content ids and hashing: hash_file equals BLAKE3 of the bytes on every code path."""

from __future__ import annotations

import io
import os
from pathlib import Path

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml import hashing
from gitml.errors import FormatError
from gitml.hashing import Oid, hash_bytes, hash_file, hash_stream

MIB = 1024 * 1024


def expected(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def test_oid_parse_and_str() -> None:
    text = "blake3:" + "0123456789abcdef" * 4
    oid = Oid.parse(text)
    assert str(oid) == text
    assert oid.hexdigest == "0123456789abcdef" * 4
    assert oid.algorithm == "blake3"
    assert Oid.from_hex(oid.hexdigest) == oid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "blake3:",
        "blake3:" + "a" * 63,
        "blake3:" + "a" * 65,
        "blake3:" + "A" * 64,
        "blake3:" + "g" * 64,
        "BLAKE3:" + "a" * 64,
        "sha256:" + "a" * 64,
        "a" * 64,
        " blake3:" + "a" * 64,
        "blake3:" + "a" * 64 + " ",
        "blake3:" + "a" * 64 + "\n",
        "blake3: " + "a" * 64,
        "blake3:" + "\u0661" * 64,
    ],
)
def test_oid_parse_rejects(text: str) -> None:
    with pytest.raises(FormatError):
        Oid.parse(text)


@pytest.mark.parametrize("hexdigest", ["", "a" * 63, "A" * 64, "a" * 64 + "\n", "z" * 64])
def test_oid_from_hex_rejects(hexdigest: str) -> None:
    with pytest.raises(FormatError):
        Oid.from_hex(hexdigest)


@given(st.text(max_size=80))
def test_oid_parse_accepts_only_canonical(text: str) -> None:
    try:
        oid = Oid.parse(text)
    except FormatError:
        return
    assert str(oid) == text


@given(st.binary(max_size=4096))
def test_hash_bytes_and_stream(data: bytes) -> None:
    assert hash_bytes(data).hexdigest == expected(data)
    oid, n = hash_stream(io.BytesIO(data))
    assert (oid.hexdigest, n) == (expected(data), len(data))


def _random_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


@pytest.mark.parametrize(
    "size",
    [0, 1, 1023, 1024, 1025, hashing._MMAP_MIN - 1, hashing._MMAP_MIN, hashing._MMAP_MIN + 1],
)
def test_hash_file_small_and_threshold(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    data = _random_file(path, size)
    assert hash_file(path).hexdigest == expected(data)
    assert hash_file(path, size).hexdigest == expected(data)


def test_hash_file_across_mmap_windows(tmp_path: Path) -> None:
    """A sparse file just over two 32 MiB windows, with data at each window edge."""
    window = hashing._WINDOW
    size = 2 * window + 12345
    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in (0, window - 3, window, 2 * window - 1, 2 * window, size - 7):
            f.seek(offset)
            f.write(os.urandom(min(7, size - offset)))
    data = path.read_bytes()
    assert len(data) == size
    assert hash_file(path).hexdigest == expected(data)
    assert hash_file(path, size).hexdigest == expected(data)


def test_hash_file_exactly_one_window(tmp_path: Path) -> None:
    path = tmp_path / "w"
    with open(path, "wb") as f:
        f.truncate(hashing._WINDOW)
        f.seek(hashing._WINDOW - 1)
        f.write(b"\x01")
    assert hash_file(path).hexdigest == expected(path.read_bytes())


def test_hash_file_missing_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hash_file(tmp_path / "nope")
