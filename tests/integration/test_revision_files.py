"""gitml.pipeline.revision_files on a real git repository: which bytes a file had at a
revision (git blob, pointer-tracked output, stage out in gitml.lock, files inside
directories) and why it could not be read."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from gitml.errors import GitError, PathError
from gitml.pipeline import revision_files
from gitml.pipeline.revision_files import FileAbsentError, FileUnavailableError, RevisionFiles
from tests.cli.helpers import cache_dir
from tests.conftest import git, make_repo, run_gitml, write

MAKE = "import os; os.makedirs('out/sub', exist_ok=True); " \
       "open('out/sub/p.csv','w').write(open('src.txt').read().upper()); " \
       "open('m.json','w').write('{\"n\": %d}' % len(open('src.txt').read()))"  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """HEAD~1: src.txt 'one', data/ added with gitml; HEAD: src.txt 'three', data/ changed."""
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "src.txt", "one")
    write(repo / "data" / "a.txt", "alpha")
    write(repo / "data" / "deep" / "b.txt", "beta")
    run_gitml("add", "data", cwd=repo)
    write(repo / "make.py", MAKE)
    run_gitml(
        "stage", "add", "-n", "make", "-d", "src.txt", "-o", "out", "-m", "m.json",
        f"{sys.executable} make.py", cwd=repo,
    )  # fmt: skip
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "one", cwd=repo)
    write(repo / "src.txt", "three")
    write(repo / "data" / "deep" / "b.txt", "BETA")
    run_gitml("add", "data", cwd=repo)
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "two", cwd=repo)
    return repo


def test_each_kind_of_file_at_two_revisions(history: Path) -> None:
    with RevisionFiles(history) as files:
        assert files.read_bytes("HEAD~1", "src.txt") == b"one"  # a git blob
        assert files.read_bytes("HEAD", "src.txt") == b"three"
        assert files.read_bytes("HEAD~1", "data/deep/b.txt") == b"beta"  # in an added dir
        assert files.read_bytes("main", "data/deep/b.txt") == b"BETA"
        assert files.read_bytes("HEAD~1", "out/sub/p.csv") == b"ONE"  # in a stage dir out
        assert files.read_bytes("HEAD", "out/sub/p.csv") == b"THREE"
        assert files.load("HEAD~1", "m.json") == {"n": 3}  # a cached metrics out
        assert files.load("HEAD", "m.json") == {"n": 5}
        assert files.load(None, "m.json") == {"n": 5}  # the workspace
        assert files.read_bytes("HEAD~1", "nothing.txt") is None
        assert files.read_bytes("HEAD~1", "out/sub/none.csv") is None
    assert revision_files.read_bytes(history, "HEAD~1", "data/a.txt") == b"alpha"


def test_reasons(history: Path) -> None:
    with pytest.raises(FileAbsentError, match=r"^nothing.txt at HEAD: not in git and not "):
        revision_files.read_required(history, "HEAD", "nothing.txt")
    with pytest.raises(FileAbsentError, match=r"out/x at HEAD: not in tracked directory out"):
        revision_files.read_required(history, "HEAD", "out/x")
    with pytest.raises(PathError, match=r"data at HEAD: is a directory tracked by gitml"):
        revision_files.read_required(history, "HEAD", "data")
    with pytest.raises(GitError, match=r"^unknown revision 'nope'$"):
        revision_files.read_bytes(history, "nope", "src.txt")
    # A stage declared but not yet run when the commit was made.
    write(history / "gitml.yaml", (history / "gitml.yaml").read_text()
          + "  late:\n    cmd: echo\n    metrics: [late.json]\n")  # fmt: skip
    git("commit", "-qam", "declare late", cwd=history)
    with pytest.raises(FileAbsentError, match=r"stage 'late' declares it, but gitml.lock at"):
        revision_files.read_required(history, "HEAD", "late.json")
    # The bytes existed but are gone: named with the file and the revision.
    shutil.rmtree(cache_dir(history))
    with pytest.raises(FileUnavailableError, match=r"^m.json at HEAD~1: object blake3:\w+ "):
        revision_files.read_bytes(history, "HEAD~1", "m.json")
    assert revision_files.read_bytes(history, "HEAD~2", "src.txt") == b"one"  # git needs no cache


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "empty")
    run_gitml("init", cwd=repo)
    assert revision_files.read_bytes(repo, "HEAD", "m.json") is None
    assert revision_files.load(repo, None, "m.json") is None


def test_uncached_out_missing_from_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "gen.py", "open('side.txt', 'w').write('side')")
    run_gitml("stage", "add", "-n", "gen", "-O", "side.txt", f"{sys.executable} gen.py", cwd=repo)
    run_gitml("repro", cwd=repo)
    git("add", "gitml.yaml", "gitml.lock", "gen.py", cwd=repo)  # side.txt left out of git
    git("commit", "-qm", "one", cwd=repo)
    assert revision_files.read_bytes(repo, None, "side.txt") == b"side"
    with pytest.raises(FileUnavailableError, match=r"stage 'gen' does not cache it and it is not"):
        revision_files.read_bytes(repo, "HEAD", "side.txt")
    git("add", "side.txt", cwd=repo)
    git("commit", "-qm", "two", cwd=repo)
    assert revision_files.read_bytes(repo, "HEAD", "side.txt") == b"side"


def test_pipeline_at_revision_reads_its_vars_files_there(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=repo)
    write(repo / "conf.yaml", "report: old.json\n")
    write(repo / "gitml.yaml", "vars: [conf.yaml]\nstages:\n"
          "  s: {cmd: echo, metrics: [{'${report}': {cache: false}}]}\n")  # fmt: skip
    write(repo / "old.json", '{"score": 1}')
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "one", cwd=repo)
    write(repo / "conf.yaml", "report: new.json\n")
    with RevisionFiles(repo) as files:
        then, now = files.pipeline("HEAD"), files.pipeline(None)
        assert then is not None and now is not None
        assert [o.path for o in then.stages["s"].outs] == ["old.json"]
        assert [o.path for o in now.stages["s"].outs] == ["new.json"]
        assert files.load("HEAD", "old.json") == {"score": 1}
    shown = json.loads(run_gitml("metrics", "show", "-R", "HEAD", "--json", cwd=repo).stdout)
    assert shown == {"workspace": {}, "HEAD": {"old.json": {"score": 1}}}  # declared at HEAD
