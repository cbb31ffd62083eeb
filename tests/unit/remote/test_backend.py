"""gitml.remote.backend: what each kind of remote can do, decided once from its scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml.errors import RemoteError
from gitml.remote.backend import Backend, capabilities, connect
from gitml.remote.config import RemoteConfig
from gitml.remote.folder import FolderFS


def test_capabilities_by_scheme() -> None:
    folder, s3, memory, http = (capabilities(p) for p in ("file", "s3", "memory", "https"))
    assert folder.local and not folder.atomic_put and folder.can_list and not folder.read_only
    assert s3.atomic_put and s3.tuned_transfers and not s3.local
    assert memory.atomic_put and not memory.tuned_transfers
    assert http.read_only and not http.can_list
    assert (folder.parallelism, memory.parallelism, s3.parallelism) == (4, 4, 16)
    assert capabilities("gs").atomic_put and not capabilities("ssh").atomic_put
    # sshfs's cat_file ignores start/end: ranges are read by seeking
    assert not capabilities("ssh").ranged_cat and not capabilities("sftp").ranged_cat
    assert s3.ranged_cat and http.ranged_cat and folder.ranged_cat


def test_connect_picks_the_filesystem(tmp_path: Path) -> None:
    fs, root, protocol = connect(RemoteConfig("r", "store"), tmp_path, 4)
    assert isinstance(fs, FolderFS) and protocol == "file"
    assert root == str(tmp_path / "store")
    fs, root, protocol = connect(RemoteConfig("r", "memory://bucket/x/"), tmp_path, 4)
    assert protocol == "memory" and root == "/bucket/x"


def test_unknown_scheme_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RemoteError, match="unknown URL scheme nosuch://"):
        connect(RemoteConfig("r", "nosuch://x"), tmp_path, 4)


def test_a_folder_write_is_never_seen_half_done(tmp_path: Path) -> None:
    backend = Backend("r", FolderFS(), str(tmp_path), "file")
    target = f"{tmp_path}/a/b"
    backend.write(target, b"whole")
    assert Path(target).read_bytes() == b"whole"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]  # no temp left
    assert backend.cat(target, 1, 3) == b"ho"
    assert backend.listing(f"{tmp_path}/missing") == []


def test_a_range_from_a_server_that_ignores_range_is_cut_out(tmp_path: Path) -> None:
    """`python -m http.server` answers a ranged GET with the whole file."""

    class WholeFileOnly(FolderFS):
        def cat_file(
            self, path: str, start: int | None = None, end: int | None = None, **_: object
        ) -> bytes:
            return super().cat_file(path)

    (tmp_path / "f").write_bytes(b"0123456789")
    backend = Backend("r", WholeFileOnly(), str(tmp_path), "file")
    assert backend.cat(f"{tmp_path}/f", 2, 5) == b"234"
    assert backend.cat(f"{tmp_path}/f", 0, 10) == b"0123456789"
