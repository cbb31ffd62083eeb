"""gitml.outputs.select: what a user's paths name among the tracked outputs."""

from __future__ import annotations

import pytest

from gitml.errors import PathError
from gitml.hashing import hash_bytes
from gitml.manifest import Entry, Manifest
from gitml.outputs import TrackedOutput, select, selected_entries
from gitml.pointer import Pointer

DIR = TrackedOutput("data/images", Pointer("dir", hash_bytes(b"m"), 3, 2), "x.gitml")
FILE = TrackedOutput("data/labels.csv", Pointer("file", hash_bytes(b"f"), 1), "y.gitml")
MODEL = TrackedOutput("model.bin", Pointer("file", hash_bytes(b"w"), 1), "gitml.lock (m)")
OUTPUTS = {o.path: o for o in (DIR, FILE, MODEL)}


def test_no_paths_select_every_output() -> None:
    assert select(OUTPUTS, None) == [DIR, FILE, MODEL]


def test_a_folder_selects_the_outputs_under_it_whole() -> None:
    assert select(OUTPUTS, ["data"]) == [DIR, FILE]


def test_paths_inside_a_directory_output_become_its_subpaths() -> None:
    chosen = select(OUTPUTS, ["data/images/a/1.png", "data/images/b", "data/images/b"])
    assert [(o.path, o.subpaths) for o in chosen] == [("data/images", ("a/1.png", "b"))]


def test_the_whole_output_wins_over_paths_inside_it() -> None:
    assert select(OUTPUTS, ["data/images/a", "data/images"]) == [DIR]


def test_an_untracked_path_is_named_with_its_context() -> None:
    with pytest.raises(PathError, match=r"^other is not tracked by gitml at v1$"):
        select(OUTPUTS, ["other"], context=" at v1")
    with pytest.raises(PathError, match=r"^model.bin/x is not tracked by gitml$"):
        select(OUTPUTS, ["model.bin/x"])


def test_selected_entries_of_a_subpath() -> None:
    a = Entry("a/1.png", hash_bytes(b"1"), 1, False)
    b = Entry("b.png", hash_bytes(b"2"), 2, False)
    manifest = Manifest.build([a, b])
    whole = selected_entries(DIR, manifest)
    assert [path for path, _ in whole] == ["data/images/a/1.png", "data/images/b.png"]
    (one,) = select(OUTPUTS, ["data/images/a"])
    assert selected_entries(one, manifest) == [("data/images/a/1.png", a)]
    (missing,) = select(OUTPUTS, ["data/images/c"])
    with pytest.raises(PathError, match="data/images/c is not in tracked directory data/images"):
        selected_entries(missing, manifest)
