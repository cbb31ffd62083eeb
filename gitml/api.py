"""Read tracked data at any git revision, from Python, without a checkout.

``path`` is relative to the repository root. ``repo`` is a local path (a gitml work
tree, or any git repository holding gitml pointers) or a git URL (``https://``,
``ssh://``, ``file://``, ``user@host:path``); None means the workspace around the current
directory. ``rev`` is any git revision; None means the pointer files as they are in the
work tree for a local workspace, and HEAD otherwise. Bytes come from the local cache
when it has them, else from the repository's default remote (or ``remote``).

Streams are verified: every byte read is hashed, and reading the last byte of a file
whose content does not match its id raises ``gitml.errors.IntegrityError`` instead of
returning that final chunk. Bytes returned before the end were not yet verified, and a
stream closed early is not verified at all. Seeking away from the read position (as
Parquet readers do) first verifies the whole object: a cached object is hashed in place;
a remote one is downloaded to a temporary file, hashed, then read from there.

Examples::

    import gitml.api

    # A CSV as it was at tag v1, streamed (never loaded whole):
    with gitml.api.open("data/train.csv", rev="v1") as f:
        header = f.readline()

    with gitml.api.open("data/train.csv", rev="v1", mode="r", encoding="utf-8") as f:
        import csv
        rows = list(csv.DictReader(f))

    # From another repository, through its default remote:
    model = gitml.api.read("models/model.pkl", repo="https://github.com/org/project.git")

    # A Parquet file of an old revision with pyarrow (random access, verified first):
    import pyarrow.parquet as pq
    with gitml.api.open("data/features.parquet", rev="HEAD~3") as f:
        table = pq.read_table(f)

    # ...or with pandas (which uses pyarrow) through the fsspec filesystem (gitml.fs):
    import pandas as pd
    df = pd.read_parquet("gitml://data/features.parquet",
                         storage_options={"rev": "v1", "repo": "."})

    gitml.api.get_url("data/train.csv", rev="v1")
    # 's3://bucket/team/data/objects/blake3/3f/...'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Any

from gitml.errors import PathError
from gitml.repo import DataRepo

__all__ = ["get_url", "open", "read"]

PathLike = str | os.PathLike[str]


def _repo_path(path: PathLike) -> str:
    from gitml.ops.get import normalize_repo_path

    return normalize_repo_path(os.fspath(path).replace(os.sep, "/"))


@contextlib.contextmanager
def open(  # mirrors builtins.open, as dvc.api.open does
    path: PathLike,
    rev: str | None = None,
    repo: PathLike | None = None,
    remote: str | None = None,
    mode: str = "rb",
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a tracked file (or a file inside a tracked directory) for streaming reads.

    ``mode`` is ``"rb"`` (a buffered, seekable binary stream) or ``"r"``/``"rt"`` (text,
    through ``io.TextIOWrapper`` with ``encoding``, ``errors`` and ``newline``)::

        with gitml.api.open("data/train.csv", rev="v1", mode="r") as f:
            for line in f:
                ...
    """
    text: dict[str, Any] = {}
    if mode in ("r", "rt"):
        text = {"encoding": encoding, "errors": errors, "newline": newline}
    elif mode != "rb":
        raise ValueError(f"gitml.api.open: mode must be 'rb', 'r' or 'rt', not {mode!r}")
    wanted = _repo_path(path)
    with DataRepo.open(repo, rev) as data_repo:
        source = data_repo.source(remote)
        ref = data_repo.snapshot(rev, source).resolve_file(wanted)
        label = f"{rev}:{wanted}" if rev else wanted
        with source.open(ref.oid, ref.size, label, mode, **text) as stream:
            yield stream


def read(
    path: PathLike,
    rev: str | None = None,
    repo: PathLike | None = None,
    remote: str | None = None,
    mode: str = "rb",
    encoding: str | None = None,
    errors: str | None = None,
) -> Any:
    """The whole content of a tracked file: bytes (``mode="rb"``) or str (``"r"``).

    It loads the file into memory; use :func:`open` for large files::

        params = gitml.api.read("config/params.json", rev="v2", mode="r")
    """
    with open(path, rev, repo, remote, mode, encoding, errors) as stream:
        return stream.read()


def get_url(
    path: PathLike,
    rev: str | None = None,
    repo: PathLike | None = None,
    remote: str | None = None,
) -> str:
    """The URL of a tracked file's bytes on the remote (an absolute path for a folder
    remote), for tools that read remote storage directly, as ``dvc.api.get_url``. A
    tracked directory gives its manifest object's URL. Nothing is downloaded::

        gitml.api.get_url("models/model.pkl", rev="v1")
        # 's3://bucket/team/data/objects/blake3/3f/...'

    Only a whole (loose) object has a URL, so the remote is asked whether it holds one; a
    URL with nothing behind it is never returned. Remote format 2 stores files below
    1 MiB inside packs and files of 64 MiB or more as chunks: for those this raises
    ``gitml.errors.RemoteError`` naming how the object is stored; read them with
    :func:`open` or :func:`read`, or give the remote ``layout = "whole"`` (``gitml remote
    modify NAME layout whole``, then ``gitml push``) so it keeps every object whole. A
    file the remote lacks raises ``gitml.errors.ObjectNotFoundError``.
    """
    wanted = _repo_path(path)
    with DataRepo.open(repo, rev) as data_repo:
        snapshot = data_repo.snapshot(rev, data_repo.source(remote))
        output = snapshot.owner(wanted)
        if output is None:
            raise PathError(f"{wanted} is not tracked by gitml")
        oid = output.pointer.oid if output.path == wanted else snapshot.resolve_file(wanted).oid
        return data_repo.open_store(remote).object_url(oid, wanted)
