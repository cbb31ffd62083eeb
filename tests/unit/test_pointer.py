"""Pointer files: the one valid encoding round-trips; anything else is a FormatError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml.errors import FormatError
from gitml.hashing import Oid
from gitml.pointer import Pointer, output_path_for, parse_pointer, pointer_path_for

HEX = "0123456789abcdef"
OID_TEXT = "blake3:" + "ab" * 32

oids = st.text(alphabet=HEX, min_size=64, max_size=64).map(Oid)
sizes = st.integers(min_value=0, max_value=2**70)


@st.composite
def pointers(draw: st.DrawFn) -> Pointer:
    if draw(st.booleans()):
        return Pointer("dir", draw(oids), draw(sizes), nfiles=draw(sizes))
    return Pointer("file", draw(oids), draw(sizes), executable=draw(st.booleans()))


def parse(text: str | bytes) -> Pointer:
    data = text.encode() if isinstance(text, str) else text
    return parse_pointer(data, "x.gitml")


@given(pointers())
def test_render_parse_identity(pointer: Pointer) -> None:
    data = pointer.render().encode()
    assert parse(data) == pointer
    assert parse(data).render().encode() == data


def test_exact_file_encoding() -> None:
    p = Pointer("file", Oid("ab" * 32), 12, executable=True)
    assert (
        p.render() == f"gitml-pointer: 1\nkind: file\noid: {OID_TEXT}\nsize: 12\nexecutable: true\n"
    )
    d = Pointer("dir", Oid("ab" * 32), 7, nfiles=3)
    assert d.render() == f"gitml-pointer: 1\nkind: dir\noid: {OID_TEXT}\nsize: 7\nnfiles: 3\n"


@given(st.binary(max_size=1200))
def test_random_bytes_only_raise_format_error(data: bytes) -> None:
    try:
        pointer = parse(data)
    except FormatError:
        return
    # Anything accepted must be the canonical encoding (exactly one valid encoding).
    assert pointer.render().encode() == data


@given(pointers(), st.data())
def test_mutated_pointers_are_rejected_or_canonical(pointer: Pointer, data: st.DataObject) -> None:
    raw = bytearray(pointer.render().encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        byte = data.draw(st.sampled_from(b"0aA: \n\r\t-x9\xff\x00"))
        if op == "replace" and raw:
            raw[pos] = byte
        elif op == "insert":
            raw.insert(pos, byte)
        elif raw:
            del raw[pos]
    try:
        parsed = parse(bytes(raw))
    except FormatError:
        return
    assert parsed.render().encode() == bytes(raw)


VALID_FILE = f"gitml-pointer: 1\nkind: file\noid: {OID_TEXT}\nsize: 5\n"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        VALID_FILE[:-1],  # no final LF
        VALID_FILE.replace("\n", "\r\n"),
        VALID_FILE.replace("gitml-pointer: 1", "gitml-pointer: 2"),
        VALID_FILE.replace("gitml-pointer: 1", "gitml-pointer:1"),
        "kind: file\n" + VALID_FILE.replace("kind: file\n", ""),  # key order
        VALID_FILE + "size: 5\n",  # duplicate key
        VALID_FILE + "color: red\n",  # unknown key
        VALID_FILE + "executable: false\n",
        VALID_FILE + "executable: yes\n",
        VALID_FILE + "nfiles: 1\n",
        VALID_FILE.replace("kind: file", "kind: link"),
        VALID_FILE.replace("kind: file", "kind: File"),
        VALID_FILE.replace("blake3:", "sha256:"),
        VALID_FILE.replace("ab" * 32, "AB" * 32),
        VALID_FILE.replace("ab" * 32, "ab" * 31),
        VALID_FILE.replace("ab" * 32, "ab" * 33),
        VALID_FILE.replace("size: 5", "size: 05"),
        VALID_FILE.replace("size: 5", "size: -5"),
        VALID_FILE.replace("size: 5", "size: +5"),
        VALID_FILE.replace("size: 5", "size: 5.0"),
        VALID_FILE.replace("size: 5", "size: \u0665"),  # Arabic-Indic digit five
        VALID_FILE.replace("size: 5", "size:  5"),
        VALID_FILE.replace("size: 5", "size: "),
        VALID_FILE + "\n",  # blank line
        "\n" + VALID_FILE,
        f"gitml-pointer: 1\nkind: dir\noid: {OID_TEXT}\nsize: 5\n",  # dir without nfiles
        f"gitml-pointer: 1\nkind: dir\noid: {OID_TEXT}\nsize: 5\nnfiles: 1\nexecutable: true\n",
        f"gitml-pointer: 1\nkind: dir\noid: {OID_TEXT}\nnfiles: 1\nsize: 5\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 5\n",
        VALID_FILE + "#" * 1024,
    ],
)
def test_hostile_pointers_rejected(text: str) -> None:
    with pytest.raises(FormatError) as info:
        parse(text)
    assert "x.gitml" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "data", [b"\xff\xfe" + VALID_FILE.encode(), VALID_FILE.encode() + b"\x80\n"]
)
def test_non_utf8_rejected(data: bytes) -> None:
    with pytest.raises(FormatError, match=r"x\.gitml"):
        parse(data)


def test_size_limit_is_1024_bytes() -> None:
    padded = VALID_FILE.encode()
    assert len(padded) < 1024
    with pytest.raises(FormatError, match="larger than 1024"):
        parse(padded + b"x" * (1025 - len(padded)))


def test_pointer_and_output_paths() -> None:
    assert pointer_path_for("a/b") == "a/b.gitml"
    assert output_path_for("a/b.gitml") == "a/b"
    with pytest.raises(ValueError):
        output_path_for(".gitml")
    with pytest.raises(ValueError):
        output_path_for("a/b")
