"""Every command that takes a revision resolves it the same way (gitml.revisions): branch,
tag, sha and `HEAD~N` name the same commit everywhere, and a revision that names nothing
is one line naming it, exit 1, with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gitml.api
from gitml.errors import GitError
from gitml.fs import GitmlFileSystem
from tests.cli.helpers import cache_dir
from tests.conftest import git, run_gitml, write


def _two_versions(repo: Path, store: Path) -> str:
    """data/train.csv 'v1' (tag v1, branch old) then 'v2' (main); returns v1's sha."""
    run_gitml("remote", "add", "-d", "origin", str(store), cwd=repo)
    write(repo / "data" / "train.csv", "a,b\n1,2\n")
    write(repo / "model.bin", "weights 1\n")
    run_gitml("add", "data", "model.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    git("tag", "v1", cwd=repo)
    git("branch", "old", cwd=repo)
    write(repo / "data" / "train.csv", "a,b\n1,2\n3,4\n")
    run_gitml("add", "data", cwd=repo)
    git("commit", "-qam", "v2", cwd=repo)
    run_gitml("push", "--rev", "v1", "--rev", "HEAD", cwd=repo)
    return git("rev-parse", "v1", cwd=repo).strip()


def test_one_commit_by_any_name(repo: Path, tmp_path: Path) -> None:
    sha = _two_versions(repo, tmp_path / "store")
    for name in ("v1", "old", sha, sha[:10], "HEAD~1", "main~1"):
        listed = json.loads(run_gitml("ls", "--rev", name, "-R", "--json", cwd=repo).stdout)
        assert listed["rev"] == name
        sizes = {e["path"]: e["size"] for e in listed["entries"]}
        assert sizes["data/train.csv"] == 8, name
        changes = json.loads(run_gitml("diff", name, "main", "--json", cwd=repo).stdout)
        assert [c["path"] for c in changes["modified"]] == ["data/", "data/train.csv"], name
        out = tmp_path / f"got-{name.replace('~', '_')}.csv"
        run_gitml("get", ".", "data/train.csv", "--rev", name, "-o", str(out), cwd=repo)
        assert out.read_bytes() == b"a,b\n1,2\n", name
        assert gitml.api.read("data/train.csv", rev=name, repo=repo) == b"a,b\n1,2\n"
        fs = GitmlFileSystem(repo=str(repo), rev=name)
        assert fs.cat_file("data/train.csv") == b"a,b\n1,2\n"
    # fetch --rev by tag: exactly v1's objects come back into an emptied cache.
    shutil.rmtree(cache_dir(repo))
    fetched = json.loads(run_gitml("fetch", "--rev", "old", "--json", cwd=repo).stdout)
    assert fetched["failed"] == [] and fetched["transferred"] >= 2
    assert run_gitml("ls", "--rev", "main", cwd=repo).returncode == 0
    got = tmp_path / "after-fetch.csv"
    run_gitml("get", ".", "data/train.csv", "--rev", sha, "-o", str(got), cwd=repo)
    assert got.read_bytes() == b"a,b\n1,2\n"


def test_unknown_revision_everywhere(repo: Path, tmp_path: Path) -> None:
    _two_versions(repo, tmp_path / "store")
    write(repo / "gitml.yaml", "stages:\n  s:\n    cmd: echo\n    metrics: [m.json]\n")
    before = sorted(p.name for p in repo.iterdir())
    for args in (
        ["diff", "nope"],
        ["diff", "HEAD", "nope"],
        ["ls", "--rev", "nope"],
        ["get", ".", "data/train.csv", "--rev", "nope"],
        ["fetch", "--rev", "nope"],
        ["push", "--rev", "nope"],
        ["metrics", "show", "--rev", "nope"],
        ["metrics", "diff", "nope"],
        ["params", "diff", "HEAD", "nope"],
    ):
        bad = run_gitml(*args, cwd=repo, check=False)
        assert (bad.returncode, bad.stdout) == (1, ""), args
        assert bad.stderr == "gitml: error: unknown revision 'nope'\n", args
    assert sorted(p.name for p in repo.iterdir()) == before
    for call in (
        lambda: gitml.api.read("data/train.csv", rev="nope", repo=repo),
        lambda: GitmlFileSystem(repo=str(repo), rev="nope"),
    ):
        try:
            call()
        except GitError as exc:
            assert str(exc) == "unknown revision 'nope'"
        else:
            raise AssertionError("an unknown revision was accepted")
