"""gitml.remote.verified_stream: a verifying stream reads like the plain file when the
bytes are right, and never ends cleanly when they are wrong."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitml.errors import IntegrityError
from gitml.hashing import hash_bytes
from gitml.remote.verified_stream import CacheBlob, open_verified

Op = tuple[str, int, int]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 5000), st.just(0)),
        st.tuples(st.just("seek"), st.integers(-3000, 6000), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("tell"), st.just(0), st.just(0)),
    ),
    max_size=12,
)


def _file(data: bytes) -> str:
    handle, path = tempfile.mkstemp(prefix="gitml-test-verified-")
    os.write(handle, data)
    os.close(handle)
    return path


def _apply(stream: io.BufferedIOBase, op: Op) -> object:
    kind, a, b = op
    if kind == "read":
        return stream.read(a)
    if kind == "tell":
        return stream.tell()
    try:
        return stream.seek(a, b)
    except (OSError, ValueError) as exc:
        return type(exc).__name__


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=4000), script=ops)
def test_reads_and_seeks_like_a_plain_file(data: bytes, script: list[Op]) -> None:
    path = _file(data)
    try:
        oid = hash_bytes(data)
        with (
            open_verified(CacheBlob(path, oid, "x"), oid, len(data), "x") as stream,
            open(path, "rb") as plain,
        ):
            for op in script:
                assert _apply(stream, op) == _apply(plain, op), op
            stream.seek(0)
            assert stream.read() == data
    finally:
        os.unlink(path)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(min_size=1, max_size=3000), flip=st.integers(0, 2999), script=ops)
def test_wrong_bytes_never_read_to_the_end(data: bytes, flip: int, script: list[Op]) -> None:
    flip %= len(data)
    bad = data[:flip] + bytes([data[flip] ^ 1]) + data[flip + 1 :]
    path = _file(bad)
    try:
        oid = hash_bytes(data)
        with (
            open_verified(CacheBlob(path, oid, "x"), oid, len(data), "x") as stream,
            pytest.raises(IntegrityError),
        ):
            for op in script:
                _apply(stream, op)
            stream.read()
    finally:
        os.unlink(path)


def test_truncated_object(tmp_path: Path) -> None:
    data = b"0123456789" * 10
    path = tmp_path / "obj"
    path.write_bytes(data[:50])
    oid = hash_bytes(data)
    with (
        open_verified(CacheBlob(str(path), oid, "t"), oid, len(data), "t") as stream,
        pytest.raises(IntegrityError, match="ended after 50 of 100 bytes"),
    ):
        stream.read()


def test_text_mode(tmp_path: Path) -> None:
    data = "é,1\nü,2\n".encode()
    path = tmp_path / "obj"
    path.write_bytes(data)
    oid = hash_bytes(data)
    with open_verified(
        CacheBlob(str(path), oid, "t"), oid, len(data), "t", "r", encoding="utf-8"
    ) as f:
        assert f.readlines() == ["é,1\n", "ü,2\n"]
    with pytest.raises(ValueError, match="mode"):
        open_verified(CacheBlob(str(path), oid, "t"), oid, len(data), "t", "wb")
