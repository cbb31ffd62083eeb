"""A gitml repository opened for reading at any revision: the current workspace, another
local repository (work tree or bare), or a git URL.

A git URL is cloned into a temporary directory with no blobs and no checkout
(`--filter=blob:none`, `--depth 1` when the revision is a branch or tag), so only the
pointer files asked for are downloaded; the data comes from the repository's remote.
A local repository is read in place: its git objects, its cache, its config.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gitml import git, revisions
from gitml.config import Config
from gitml.errors import (
    GitError,
    NotAGitRepoError,
    NotAWorkspaceError,
    PathError,
    RemoteNotConfiguredError,
)
from gitml.objects import ObjectSource
from gitml.outputs import WORKSPACE, Snapshot, revision_outputs, workspace_outputs
from gitml.workspace import GITML_DIR, Workspace

if TYPE_CHECKING:
    from gitml.remote.store import RemoteStore

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")


def open_store(ws: Workspace, name: str | None, jobs: int | None = None) -> RemoteStore:
    """The workspace's remote `name` (default: the configured one), with its cache attached."""
    from gitml.remote import config as remote_config  # lazy: storage costs start-up time
    from gitml.remote.store import open_remote

    config = remote_config.resolve(ws.config, ws.gitml_dir, name)
    store = open_remote(config, ws.root, jobs)
    store.attach_cache(ws.cache)
    return store


def is_git_url(repo: str) -> bool:
    """`https://...`, `ssh://...`, `file://...`, or scp-like `user@host:path`."""
    return "://" in repo or bool(_SCP_LIKE.match(repo))


class DataRepo:
    """Read tracked outputs of one repository; use as a context manager."""

    def __init__(
        self,
        git_root: Path,
        config: Config,
        gitml_dir: Path,
        workspace: Workspace | None = None,
        temp_dir: Path | None = None,
        foreign: bool = False,
        name: str = "",
    ) -> None:
        self.git_root = git_root
        self.config = config
        self.gitml_dir = gitml_dir
        self.workspace = workspace
        self._temp_dir = temp_dir
        self.foreign = foreign  # not the current workspace: ignore GITML_REMOTE
        self.name = name or str(git_root)  # for messages
        self.cat = git.CatFile(git_root)

    # Opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, repo: str | os.PathLike[str] | None, rev: str | None = None) -> DataRepo:
        if repo is None:
            return cls.for_workspace(Workspace.find())
        text = os.fspath(repo)
        if is_git_url(text):
            return cls._clone(text, rev)
        path = Path(text).expanduser()
        if not path.is_dir():
            raise PathError(f"repository {text}: no such directory")
        try:
            ws = Workspace.find(path)
        except NotAWorkspaceError:
            ws = None
        if ws is not None:
            opened_ws = cls.for_workspace(ws, foreign=ws.root != _current_root())
            opened_ws.name = text
            return opened_ws
        try:
            git.run_bytes(path, ["rev-parse", "--git-dir"])
        except GitError:
            raise NotAGitRepoError(f"repository {text}: not a git repository") from None
        return cls._from_git(path.resolve(), rev or "HEAD", None, text)

    @classmethod
    def for_workspace(cls, ws: Workspace, *, foreign: bool = False) -> DataRepo:
        return cls(ws.root, ws.config, ws.gitml_dir, ws, foreign=foreign)

    @classmethod
    def _clone(cls, url: str, rev: str | None) -> DataRepo:
        temp = Path(tempfile.mkdtemp(prefix="gitml-repo-"))
        try:
            git.shallow_clone(url, temp / "repo", rev)
            return cls._from_git(temp / "repo", rev or "HEAD", temp, url)
        except GitError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise GitError(f"cannot clone {url}: {exc.message}") from None
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    @classmethod
    def _from_git(cls, git_root: Path, rev: str, temp: Path | None, name: str) -> DataRepo:
        """A repository with no usable work tree: its config is read from git at `rev`."""
        own_temp = temp or Path(tempfile.mkdtemp(prefix="gitml-repo-"))
        gitml_dir = own_temp / GITML_DIR
        gitml_dir.mkdir(exist_ok=True)
        try:
            commit = revisions.resolve(git_root, rev)
            with git.CatFile(git_root) as cat:
                data = cat.read_path(commit, f"{GITML_DIR}/config")
            if data is not None:
                (gitml_dir / "config").write_bytes(data)
            config = Config.load(gitml_dir)
        except BaseException:
            shutil.rmtree(own_temp, ignore_errors=True)
            raise
        return cls(git_root, config, gitml_dir, None, own_temp, foreign=True, name=name)

    def close(self) -> None:
        self.cat.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> DataRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Reading -----------------------------------------------------------------------------

    def open_store(self, name: str | None = None) -> RemoteStore:
        from gitml.remote import config as remote_config
        from gitml.remote.store import open_remote

        env = {k: v for k, v in os.environ.items() if not (self.foreign and k == "GITML_REMOTE")}
        try:
            config = remote_config.resolve(self.config, self.gitml_dir, name, env)
        except RemoteNotConfiguredError as exc:
            if not self.foreign:
                raise
            raise RemoteNotConfiguredError(f"{exc.message} in repository {self.name}") from None
        base = self.workspace.root if self.workspace is not None else self.git_root
        return open_remote(config, base)

    def source(self, remote: str | None = None, *, store_fetched: bool = False) -> ObjectSource:
        cache = self.workspace.cache if self.workspace is not None else None
        return ObjectSource(cache, lambda: self.open_store(remote), store_fetched=store_fetched)

    def snapshot(self, rev: str | None, source: ObjectSource | None = None) -> Snapshot:
        """Outputs at `rev`; None means the work tree's pointers (HEAD without one)."""
        source = source or self.source()
        if rev is None and self.workspace is not None:
            return Snapshot(WORKSPACE, workspace_outputs(self.workspace), source)
        label = rev or "HEAD"
        return Snapshot(label, revision_outputs(self.git_root, label, self.cat), source)


def _current_root() -> Path | None:
    try:
        return Workspace.find().root
    except NotAWorkspaceError:
        return None


@contextlib.contextmanager
def opened(repo: str | os.PathLike[str] | None, rev: str | None = None) -> Iterator[DataRepo]:
    data_repo = DataRepo.open(repo, rev)
    try:
        yield data_repo
    finally:
        data_repo.close()
