"""Directory manifests: canonical round-trip; every hostile or non-canonical input rejected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml.errors import FormatError
from gitml.hashing import Oid
from gitml.manifest import HEADER, Entry, Manifest, parse_manifest

HEX = "0123456789abcdef"
OID = Oid("cd" * 32)

# Path components a user could really have: letters, digits, spaces, punctuation, non-ASCII.
component = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\x7f"),
    min_size=1,
    max_size=12,
).filter(lambda c: c not in (".", "..", ".git", ".gitml") and not (len(c) > 1 and c[1] == ":"))
relpaths = st.lists(component, min_size=1, max_size=4).map("/".join)
entries = st.builds(
    Entry,
    relpath=relpaths,
    oid=st.text(alphabet=HEX, min_size=64, max_size=64).map(Oid),
    size=st.integers(0, 2**64),
    executable=st.booleans(),
)


def _no_clash(items: list[Entry]) -> list[Entry]:
    kept: dict[str, Entry] = {}
    for e in items:
        parts = e.relpath.split("/")
        prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
        if e.relpath in kept or prefixes & kept.keys():
            continue
        if any(k.startswith(e.relpath + "/") for k in kept):
            continue
        kept[e.relpath] = e
    return list(kept.values())


manifests = st.lists(entries, max_size=12).map(_no_clash).map(Manifest.build)


def parse(data: bytes) -> Manifest:
    return parse_manifest(data, "manifest M")


@given(manifests)
def test_render_parse_identity(manifest: Manifest) -> None:
    data = manifest.render()
    parsed = parse(data)
    assert parsed == manifest
    assert parsed.render() == data
    assert parsed.oid() == manifest.oid()


@given(st.binary(max_size=600))
def test_random_bytes_only_raise_format_error(data: bytes) -> None:
    try:
        manifest = parse(data)
    except FormatError:
        return
    assert manifest.render() == data


@given(st.binary(max_size=400))
def test_random_body_only_raises_format_error(body: bytes) -> None:
    try:
        manifest = parse(HEADER + body)
    except FormatError:
        return
    assert manifest.render() == HEADER + body


@given(manifests, st.data())
def test_mutated_manifests_rejected_or_canonical(manifest: Manifest, data: st.DataObject) -> None:
    raw = bytearray(manifest.render())
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        byte = data.draw(st.sampled_from(b"/.\\ \n\r\x00-xa0"))
        if data.draw(st.booleans()):
            raw[pos] = byte
        else:
            raw.insert(pos, byte)
    try:
        parsed = parse(bytes(raw))
    except FormatError:
        return
    assert parsed.render() == bytes(raw)


def line(relpath: str, size: int = 1, flag: str = "-", oid: Oid = OID) -> bytes:
    return f"{oid} {size} {flag} {relpath}\n".encode()


def test_exact_encoding() -> None:
    m = Manifest.build([Entry("b c/d", OID, 3, True), Entry("a", OID, 0), Entry("\u00e9", OID, 1)])
    assert m.render() == HEADER + line("a", 0) + line("b c/d", 3, "x") + line("\u00e9")
    assert (m.size, m.nfiles) == (4, 3)
    assert Manifest.build([]).render() == HEADER


def test_sorted_by_utf8_bytes_not_code_points() -> None:
    # U+FF21 sorts before U+10000 by code point and also by UTF-8 bytes; "Z" < "a" in bytes.
    m = Manifest.build([Entry("a", OID, 1), Entry("Z", OID, 1), Entry("\U00010000", OID, 1)])
    assert [e.relpath for e in m] == ["Z", "a", "\U00010000"]
    assert parse(m.render()) == m


@pytest.mark.parametrize(
    "body",
    [
        line("../escape"),
        line("a/../../escape"),
        line(".."),
        line("."),
        line("./a"),
        line("a/./b"),
        line("/etc/passwd"),
        line("C:/x"),
        line("C:x"),
        line("a\\b"),
        line("..\\escape"),
        line(".git/hooks/pre-commit"),
        line("sub/.git/config"),
        line(".gitml/config"),
        line("a//b"),
        line("a/"),
        line("a\tb"),
        line("a\x1bb"),
        line("a\x7fb"),
        line("a\rb"),
        line(""),
        line("b") + line("a"),  # unsorted
        line("a") + line("a"),  # duplicate
        line("a") + line("a/b"),  # file/dir clash
        line("a") + line("a/b/c"),
        line("a", flag="r"),
        line("a", flag="xx"),
        line("a", size=-1),
        f"{OID} 01 - a\n".encode(),
        f"{OID} 1.0 - a\n".encode(),
        f"{OID} \u0661 - a\n".encode(),
        f"{OID}  1 - a\n".encode(),
        f"{OID} 1 -\n".encode(),
        f"{OID} 1\n".encode(),
        f"{str(OID).upper()} 1 - a\n".encode(),
        ("sha256:" + "a" * 64 + " 1 - a\n").encode(),
        line("a")[:-1],  # truncated: no final newline
        line("a")[:40],
        b"\n",
        line("a") + b"\n",
        b"\xff\xfe 1 - a\n",
        line("a").replace(b"a\n", b"\xc3(\n"),
    ],
)
def test_hostile_manifests_rejected(body: bytes) -> None:
    with pytest.raises(FormatError) as info:
        parse(HEADER + body)
    assert "manifest M" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"gitml-manifest 1",
        b"gitml-manifest 2\n",
        b"gitml-manifest 1\r\n",
        b"GITML-MANIFEST 1\n",
    ],
)
def test_bad_headers_rejected(data: bytes) -> None:
    with pytest.raises(FormatError, match="manifest M"):
        parse(data)


def test_spaces_in_relpath_survive() -> None:
    m = parse(HEADER + line(" lead and  double "))
    assert [e.relpath for e in m] == [" lead and  double "]


def test_build_rejects_duplicates_and_clashes() -> None:
    with pytest.raises(FormatError):
        Manifest.build([Entry("a", OID, 1), Entry("a", OID, 2)])
    with pytest.raises(FormatError):
        Manifest.build([Entry("a", OID, 1), Entry("a/b", OID, 2)])
