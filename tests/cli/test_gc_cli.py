"""`gitml gc` through the installed command: what survives each mode, --dry, confirmation,
stale temporary files, hostile history, and cleaning a remote (folder and S3)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import assert_user_error, b3, object_path, verify_cache
from tests.conftest import git, make_repo, run_gitml, write
from tests.remote_layout import stored
from tests.s3_endpoint import S3Endpoint


def commit(root: Path, message: str) -> None:
    git("add", "-A", "--", "*.gitml", "*.gitignore", ".gitml", cwd=root)
    git("commit", "-qm", message, cwd=root)


def version(root: Path, name: str, data: bytes) -> str:
    """Write `data` to output `name` and record it; returns its object id."""
    write(root / name, data)
    run_gitml("add", name, cwd=root)
    return b3(data)


def cached(root: Path) -> set[str]:
    return set(verify_cache(root))


class Refs:
    """A repository where each version of `f.bin` is referenced from one place only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.old = version(root, "f.bin", b"v1 only in main's history")
        commit(root, "v1")
        self.tag = version(root, "f.bin", b"v2 at tag t")
        commit(root, "v2")
        git("tag", "-a", "t", "-m", "annotated", cwd=root)
        self.head = version(root, "f.bin", b"v3 at main's tip")
        commit(root, "v3")
        git("checkout", "-qb", "other", cwd=root)
        self.branch = version(root, "g.bin", b"only on branch other")
        commit(root, "branch")
        git("checkout", "-q", "main", cwd=root)
        os.unlink(root / "g.bin")
        self.stash = version(root, "f.bin", b"v4 only in the stash")
        git("stash", "-q", cwd=root)
        run_gitml("checkout", "-f", cwd=root)
        self.staged = version(root, "f.bin", b"v5 staged in the index")
        git("add", "f.bin.gitml", cwd=root)
        self.work = version(root, "f.bin", b"v6 in the work tree only")
        # a directory whose old version shares one file with the current one
        write(root / "d" / "shared.txt", b"same in both versions")
        write(root / "d" / "gone.txt", b"only in the old version of d")
        run_gitml("add", "d", cwd=root)
        self.dir_old_manifest = _pointer_oid(root / "d.gitml")
        git("add", "d.gitml", ".gitignore", cwd=root)
        # commit only d's files: the staged f.bin.gitml stays staged
        git("commit", "-qm", "d v1", "--", "d.gitml", ".gitignore", cwd=root)
        os.unlink(root / "d" / "gone.txt")
        run_gitml("commit", "d", cwd=root)
        self.gone = b3(b"only in the old version of d")
        self.shared = b3(b"same in both versions")
        self.dir_new_manifest = _pointer_oid(root / "d.gitml")

    @property
    def everything(self) -> set[str]:
        return {
            self.old,
            self.tag,
            self.head,
            self.branch,
            self.stash,
            self.staged,
            self.work,
            self.gone,
            self.shared,
            self.dir_old_manifest,
            self.dir_new_manifest,
        }


def _pointer_oid(pointer: Path) -> str:
    return next(ln[5:] for ln in pointer.read_text().splitlines() if ln.startswith("oid: "))


@pytest.fixture
def refs(repo: Path) -> Refs:
    return Refs(repo)


def gc_json(root: Path, *args: str) -> dict[str, Any]:
    result = run_gitml("gc", "--json", *args, cwd=root)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_default_keeps_branches_tags_stash_index_and_work_tree(refs: Refs) -> None:
    root = refs.root
    assert cached(root) == refs.everything
    dry = gc_json(root, "--dry")
    assert dry["dry"] is True and dry["mode"] == "default"
    assert {o["oid"] for o in dry["objects"]} == {refs.old}
    assert dry["bytes"] == len(b"v1 only in main's history")
    assert cached(root) == refs.everything  # --dry removed nothing

    text = run_gitml("gc", "--dry", cwd=root).stdout
    assert refs.old in text and "Would remove 1 of 11 cache objects" in text

    run_gitml("gc", "-f", cwd=root)
    assert cached(root) == refs.everything - {refs.old}
    # the stashed pointer's data can still be checked out
    git("checkout", "stash@{0}", "--", "f.bin.gitml", cwd=root)
    run_gitml("checkout", "-f", "f.bin", cwd=root)
    assert (root / "f.bin").read_bytes() == b"v4 only in the stash"


def test_all_commits_keeps_history(refs: Refs) -> None:
    doc = gc_json(refs.root, "--all-commits", "-f")
    assert doc["removed"] == 0
    assert cached(refs.root) == refs.everything


def test_workspace_removes_old_versions(refs: Refs) -> None:
    root = refs.root
    dry = gc_json(root, "--workspace", "--dry")
    expected = refs.everything - {refs.work, refs.shared, refs.dir_new_manifest}
    assert {o["oid"] for o in dry["objects"]} == expected
    assert cached(root) == refs.everything
    run_gitml("gc", "-w", "-f", cwd=root)
    assert cached(root) == {refs.work, refs.shared, refs.dir_new_manifest}
    assert json.loads(run_gitml("status", "--json", cwd=root).stdout) == {"outputs": []}


def test_refuses_without_a_terminal_unless_forced(refs: Refs) -> None:
    result = run_gitml("gc", cwd=refs.root, check=False)
    assert_user_error(result, "gc would delete 1 cache object (", "confirm with -f")
    assert cached(refs.root) == refs.everything


def test_nothing_to_remove_needs_no_confirmation(repo: Path) -> None:
    version(repo, "x.bin", b"x")
    result = run_gitml("gc", cwd=repo)
    assert "Removed 0 objects" in result.stdout


def test_workspace_and_all_commits_are_exclusive(repo: Path) -> None:
    result = run_gitml("gc", "-w", "-A", "--dry", cwd=repo, check=False)
    assert result.returncode == 2


def test_pointer_blob_under_another_name_is_kept(repo: Path) -> None:
    """rev-list names a blob by one path only, so pointers are recognised by content."""
    keep = version(repo, "x.bin", b"referenced from a copy of the pointer")
    git("checkout", "-qb", "copies", cwd=repo)
    write(repo / "notes" / "pointer-copy.txt", (repo / "x.bin.gitml").read_bytes())
    os.unlink(repo / "x.bin.gitml")
    git("add", "notes", cwd=repo)
    git("commit", "-qm", "copy only", cwd=repo)
    version(repo, "x.bin", b"current")
    run_gitml("gc", "-f", cwd=repo)
    assert keep in cached(repo)


def test_stale_temporary_files(repo: Path) -> None:
    version(repo, "x.bin", b"x")
    tmp = repo / ".gitml" / "cache" / "tmp"
    tmp.mkdir(exist_ok=True)
    old, fresh = tmp / ".tmp-old", tmp / ".tmp-fresh"
    write(old, b"interrupted two days ago")
    write(fresh, b"maybe in use right now")
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    assert gc_json(repo, "--dry")["tmp_files"] == 1
    assert old.exists()
    run_gitml("gc", "-f", cwd=repo)
    assert not old.exists() and fresh.exists()


def test_newer_pointer_in_history_stops_gc(repo: Path) -> None:
    version(repo, "x.bin", b"x")
    write(repo / "future.gitml", "gitml-pointer: 2\nkind: file\n")
    commit(repo, "from the future")
    git("rm", "-q", "future.gitml", cwd=repo)
    git("commit", "-qm", "gone", cwd=repo)
    result = run_gitml("gc", "-A", "--dry", cwd=repo, check=False)
    assert_user_error(result, "future.gitml", "newer gitml")


def test_malformed_old_pointer_is_skipped_with_a_warning(repo: Path) -> None:
    keep = version(repo, "x.bin", b"x")
    write(repo / "bad.gitml", "gitml-pointer: 1\nkind: file\noid: nope\nsize: 1\n")
    commit(repo, "bad")
    git("rm", "-q", "bad.gitml", cwd=repo)
    git("commit", "-qm", "removed", cwd=repo)
    result = run_gitml("gc", "-A", "-f", cwd=repo)
    assert "skipped malformed pointer: bad.gitml" in result.stderr
    assert keep in cached(repo)


def test_missing_manifest_is_reported(repo: Path) -> None:
    write(repo / "d" / "a.txt", b"a")
    run_gitml("add", "d", cwd=repo)
    commit(repo, "d")
    manifest = _pointer_oid(repo / "d.gitml")
    os.chmod(object_path(repo, manifest), 0o644)
    os.unlink(object_path(repo, manifest))
    result = run_gitml("gc", "--dry", cwd=repo)
    assert "cannot list the files of d.gitml" in result.stderr
    assert manifest in result.stderr


# Remotes -----------------------------------------------------------------------------


Configure = Callable[[Path], str]


@pytest.fixture
def folder_remote(tmp_path: Path) -> Configure:
    def configure(root: Path) -> str:
        run_gitml("remote", "add", "-d", "origin", str(tmp_path / "store"), cwd=root)
        return "origin"

    return configure


@pytest.fixture
def s3_remote(s3_endpoint: S3Endpoint, s3_bucket: str) -> Configure:
    def configure(root: Path) -> str:
        run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/gc", cwd=root)
        run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=root)
        return "s3"

    return configure


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest) -> Configure:
    fixture: Configure = request.getfixturevalue(f"{request.param}_remote")
    return fixture


def test_remote_gc_needs_its_own_confirmation(tmp_path: Path, remote: Configure) -> None:
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    name = remote(root)
    old = version(root, "m.bin", b"old model")
    run_gitml("push", cwd=root)
    commit(root, "old")
    new = version(root, "m.bin", b"new model")
    run_gitml("push", cwd=root)
    commit(root, "new")

    dry = gc_json(root, "--workspace", "--dry", "--remote", name)
    assert dry["remote"]["objects"] == [old] and dry["remote"]["kept"] == 1

    refused = run_gitml("gc", "-w", "-f", "--remote", name, cwd=root, check=False)
    assert_user_error(refused, f"remote '{name}'", "--yes-delete-remote")
    assert cached(root) == {old, new}  # nothing deleted anywhere
    assert gc_json(root, "-w", "--dry", "--remote", name)["remote"]["objects"] == [old]

    done = gc_json(root, "-w", "-f", "--remote", name, "--yes-delete-remote")
    assert done["remote"]["removed"] == 1
    assert cached(root) == {new}
    after = gc_json(root, "--dry", "--all-commits", "--remote", name)
    assert after["remote"]["objects"] == [] and after["remote"]["kept"] == 1
    # what is left is still usable from a fresh clone
    clone = tmp_path / "clone"
    git("clone", "-q", str(root), str(clone), cwd=tmp_path)
    run_gitml("pull", cwd=clone)
    assert (clone / "m.bin").read_bytes() == b"new model"


def test_remote_gc_refuses_when_a_manifest_is_nowhere(
    tmp_path: Path, folder_remote: Configure
) -> None:
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    folder_remote(root)
    write(root / "d" / "a.txt", b"a")
    run_gitml("add", "d", cwd=root)
    commit(root, "d not pushed")
    manifest = _pointer_oid(root / "d.gitml")
    os.unlink(object_path(root, manifest))
    run_gitml("push", cwd=root, check=False)
    result = run_gitml(
        "gc", "-f", "--remote", "origin", "--yes-delete-remote", cwd=root, check=False
    )
    assert_user_error(result, "refusing to clean remote 'origin'", "d.gitml")


def test_remote_gc_drops_directory_records_first(tmp_path: Path, folder_remote: Configure) -> None:
    """A `dirs/` record promises all of a manifest's files: it must go before they do."""
    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    folder_remote(root)
    write(root / "d" / "keep.txt", b"in both versions")
    write(root / "d" / "old.txt", b"only in the first version")
    run_gitml("add", "d", cwd=root)
    run_gitml("push", cwd=root)
    commit(root, "d v1")
    old_manifest = _pointer_oid(root / "d.gitml")
    os.unlink(root / "d" / "old.txt")
    run_gitml("commit", "d", cwd=root)
    run_gitml("push", cwd=root)
    commit(root, "d v2")
    new_manifest = _pointer_oid(root / "d.gitml")

    def record(oid: str) -> Path:
        hexdigest = oid.removeprefix("blake3:")
        return tmp_path / "store" / "dirs" / "blake3" / hexdigest[:2] / hexdigest[2:]

    assert record(old_manifest).exists() and record(new_manifest).exists()
    run_gitml("gc", "-w", "-f", "-r", "origin", "--yes-delete-remote", cwd=root)
    assert not record(old_manifest).exists()
    assert record(new_manifest).exists()
    left = stored(tmp_path / "store")  # loose, packed or chunked
    assert left == {
        new_manifest.removeprefix("blake3:"),
        b3(b"in both versions").removeprefix("blake3:"),
    }


# Pipelines ---------------------------------------------------------------------------


def _repro_version(root: Path, text: str) -> str:
    write(root / "src.txt", text)
    run_gitml("repro", cwd=root)
    git("add", "gitml.yaml", "gitml.lock", ".gitignore", "src.txt", cwd=root)
    git("commit", "-qm", text, cwd=root)
    return b3(text.encode())


def test_stage_outs_and_run_cache_are_kept(repo: Path) -> None:
    run_gitml("stage", "add", "-n", "make", "-d", "src.txt", "-o", "out.bin",
              "cp src.txt out.bin", cwd=repo)  # fmt: skip
    write(repo / "src.txt", "one\n")
    first = _repro_version(repo, "one\n")
    git("checkout", "-qb", "exp", cwd=repo)
    second = _repro_version(repo, "two\n")
    git("checkout", "-q", "main", cwd=repo)
    run_gitml("checkout", "-f", cwd=repo)
    third = _repro_version(repo, "three\n")
    runs = repo / ".gitml" / "cache" / "runs"
    assert {first, second, third} <= cached(repo)

    # every run is in the run-cache: the default gc keeps all three outs
    assert gc_json(repo, "--dry")["would_remove"] == 0
    # without the run-cache, `exp`'s gitml.lock still keeps its out; main's history doesn't
    shutil.rmtree(runs)
    gone = {o["oid"] for o in gc_json(repo, "--dry")["objects"]}
    assert first in gone and second not in gone and third not in gone
    all_commits = gc_json(repo, "--all-commits", "--dry")["objects"]
    assert {first, second, third}.isdisjoint(o["oid"] for o in all_commits)


def test_workspace_gc_drops_run_cache_entries_it_empties(repo: Path) -> None:
    run_gitml("stage", "add", "-n", "make", "-d", "src.txt", "-o", "out.bin",
              "cp src.txt out.bin", cwd=repo)  # fmt: skip
    write(repo / "src.txt", "one\n")
    first = _repro_version(repo, "one\n")
    second = _repro_version(repo, "two\n")
    doc = gc_json(repo, "-w", "-f")
    assert doc["run_cache_markers_dropped"] == 1
    assert first not in cached(repo) and second in cached(repo)
    # the surviving run still restores; the dropped one runs again
    write(repo / "src.txt", "one\n")
    rerun = run_gitml("repro", cwd=repo)
    assert "Running stage 'make'" in rerun.stdout
    assert (repo / "out.bin").read_text() == "one\n"


def _profile_files(root: Path) -> dict[str, bytes]:
    base = root / ".gitml" / "cache" / "profiles"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def _csv(rows: int, offset: int) -> str:
    return "x,k\n" + "".join(f"{i + offset},{'ab'[i % 2]}\n" for i in range(rows))


def test_stored_profiles_live_as_long_as_their_data(repo: Path) -> None:
    write(repo / "live.csv", _csv(50, 0))
    write(repo / "shards" / "a" / "part.csv", _csv(20, 100))
    write(repo / "shards" / "b" / "part.csv", _csv(20, 200))
    run_gitml("add", "live.csv", "shards", cwd=repo)
    commit(repo, "v1")
    run_gitml("drift", "live.csv", "--rev", "HEAD", cwd=repo)
    run_gitml("drift", "shards/a", "--rev", "HEAD", cwd=repo)  # a folder inside a directory
    first = _profile_files(repo)
    assert len([p for p in first if p.endswith(".json")]) == 2
    assert len([p for p in first if p.endswith(".owner")]) == 1  # the folder's

    write(repo / "live.csv", _csv(50, 7))
    run_gitml("add", "live.csv", cwd=repo)
    commit(repo, "v2")
    run_gitml("drift", "live.csv", "--rev", "HEAD", cwd=repo)
    both = _profile_files(repo)
    (kept,) = set(both) - set(first)

    # v1 of live.csv is only in history: default gc drops it and its profile; the
    # directory is still at the branch tip, so the folder's profile stays.
    doc = json.loads(run_gitml("gc", "-f", "--json", cwd=repo).stdout)
    after = _profile_files(repo)
    shard_profile = {p: d for p, d in first.items() if p.replace(".owner", ".json") in after}
    assert set(after) == {kept, *shard_profile}
    assert all(after[p] == both[p] for p in after)  # kept byte for byte
    dropped = set(both) - set(after)
    assert len(dropped) == 1
    assert doc["profiles"] == {
        "removed": 1, "bytes": sum(len(both[p]) for p in dropped), "kept": 2,
    }  # fmt: skip

    # Once the directory is gone from the work tree, -w drops the folder's profile too,
    # its owner file with it.
    (repo / "shards.gitml").unlink()
    shutil.rmtree(repo / "shards", ignore_errors=True)
    run_gitml("gc", "-w", "-f", cwd=repo)
    assert _profile_files(repo) == {kept: both[kept]}
