"""`gitml diff` and `gitml ls` through the installed command, on a repository with a tag,
a branch and a merge (tests/history_repo.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import assert_user_error, b3, object_path
from tests.conftest import git, run_gitml, write
from tests.history_repo import A_V2, D_NEW, EXTRA, V1_DATA, V1_MODEL, History, build


@pytest.fixture
def history(tmp_path: Path) -> History:
    return build(tmp_path / "repo")


def diff_json(root: Path, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    result = run_gitml("diff", "--json", *args, cwd=cwd or root)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def paths(doc: dict[str, Any], status: str) -> list[str]:
    return [c["path"] for c in doc[status]]


def test_diff_between_tag_and_merge(history: History) -> None:
    doc = diff_json(history.root, "v1", "main")
    assert (doc["a"], doc["b"]) == ("v1", "main")
    assert paths(doc, "added") == ["data/d.csv", "more/extra.txt"]
    assert paths(doc, "deleted") == []
    assert paths(doc, "modified") == ["data/", "data/a.csv"]
    assert doc["renamed"] == [
        {
            "old_path": "model.bin",
            "path": "models/model.bin",
            "oid": b3(V1_MODEL),
            "size": len(V1_MODEL),
        }
    ]
    modified = {c["path"]: c for c in doc["modified"]}
    assert modified["data/a.csv"]["old"] == {
        "oid": b3(V1_DATA["a.csv"]),
        "size": len(V1_DATA["a.csv"]),
    }
    assert modified["data/a.csv"]["new"] == {"oid": b3(A_V2), "size": len(A_V2)}
    added = {c["path"]: c for c in doc["added"]}
    assert added["data/d.csv"]["oid"] == b3(D_NEW)
    assert added["more/extra.txt"] == {
        "path": "more/extra.txt",
        "oid": b3(EXTRA),
        "size": len(EXTRA),
    }
    assert doc["unknown"] == []


def test_diff_reversed_and_across_the_merge(history: History) -> None:
    back = diff_json(history.root, "main", "v1")
    assert paths(back, "deleted") == ["data/d.csv", "more/extra.txt"]
    assert back["renamed"][0]["old_path"] == "models/model.bin"
    assert back["renamed"][0]["path"] == "model.bin"
    # HEAD~1 is main before the merge: the merge brought the branch's changes only
    merge = diff_json(history.root, "HEAD~1", "HEAD")
    assert paths(merge, "added") == ["data/d.csv"]
    assert paths(merge, "modified") == ["data/", "data/a.csv"]
    assert [r["path"] for r in merge["renamed"]] == ["models/model.bin"]
    assert diff_json(history.root, "feature", "HEAD^2")["added"] == []


def test_diff_text_output(history: History) -> None:
    out = run_gitml("diff", "v1", "main", cwd=history.root).stdout.splitlines()
    assert out[:5] == [
        "Modified: data/",
        "Modified: data/a.csv",
        "Added:    data/d.csv",
        "Renamed:  model.bin -> models/model.bin",
        "Added:    more/extra.txt",
    ]
    assert out[-1] == "2 added, 0 deleted, 2 modified, 1 renamed"
    same = run_gitml("diff", "main", "HEAD", cwd=history.root)
    assert same.stdout == "No changes between main and HEAD.\n"


def test_diff_head_against_the_work_tree(history: History) -> None:
    root = history.root
    assert run_gitml("diff", cwd=root).stdout == "No changes between HEAD and workspace.\n"
    write(root / "data" / "sub" / "c.csv", b"id,value\n4,DELTA\n")  # not yet `gitml commit`ed
    (root / "data" / "b.csv").unlink()
    write(root / "data" / "new.csv", V1_DATA["b.csv"])  # same bytes as the deleted file
    doc = diff_json(root, cwd=root / "data")
    assert (doc["a"], doc["b"]) == ("HEAD", "workspace")
    assert paths(doc, "modified") == ["data/", "data/sub/c.csv"]
    assert doc["renamed"] == [
        {
            "old_path": "data/b.csv",
            "path": "data/new.csv",
            "oid": b3(V1_DATA["b.csv"]),
            "size": len(V1_DATA["b.csv"]),
        }
    ]
    # data that is not checked out counts as its pointer says (status reports it instead)
    shutil.rmtree(root / "data")
    (root / "models" / "model.bin").unlink()
    assert diff_json(root)["modified"] == []


def test_diff_in_a_repository_without_commits(repo: Path) -> None:
    write(repo / "x.bin", b"x")
    run_gitml("add", "x.bin", cwd=repo)
    assert paths(diff_json(repo), "added") == ["x.bin"]


def test_diff_unknown_revision(history: History) -> None:
    result = run_gitml("diff", "nope", cwd=history.root, check=False)
    assert_user_error(result, "unknown revision 'nope'")
    assert result.stdout == ""


def test_diff_names_a_malformed_pointer_at_a_revision(history: History) -> None:
    root = history.root
    write(root / "bad.gitml", "gitml-pointer: 1\nkind: file\noid: blake3:xyz\nsize: 1\n")
    git("add", "bad.gitml", cwd=root)
    git("commit", "-qm", "bad pointer", cwd=root)
    git("tag", "broken", cwd=root)
    git("rm", "-q", "bad.gitml", cwd=root)
    git("commit", "-qm", "fixed", cwd=root)
    result = run_gitml("diff", "v1", "broken", cwd=root, check=False)
    assert_user_error(result, "broken:bad.gitml", "invalid content id")
    escaping = "gitml-pointer: 1\nkind: file\noid: " + b3(b"") + "\nsize: 0\n"
    write(root / "sub" / ".gitml" / "x.gitml", escaping)
    git("add", "-f", "sub/.gitml/x.gitml", cwd=root)
    git("commit", "-qm", "pointer into a reserved folder", cwd=root)
    result = run_gitml("ls", "--rev", "HEAD", cwd=root, check=False)
    assert_user_error(result, "HEAD:sub/.gitml/x.gitml", "reserved")


def test_diff_reads_manifests_from_the_remote_in_a_fresh_clone(tmp_path: Path) -> None:
    store = tmp_path / "store"

    def configure(root: Path) -> None:
        run_gitml("remote", "add", "-d", "origin", str(store), cwd=root)

    history = build(tmp_path / "src", configure)
    run_gitml("push", cwd=history.root)
    clone = tmp_path / "clone"
    git("clone", "-q", str(history.root), str(clone), cwd=tmp_path)
    doc = diff_json(clone, "v1", "HEAD")
    assert paths(doc, "modified") == ["data/", "data/a.csv"]
    assert doc["unknown"] == []
    # the manifests it read were verified and kept, as `gitml fetch` would
    v1_manifest = _pointer_oid(history.root, "v1", "data.gitml")
    assert object_path(clone, v1_manifest).is_file()


def test_diff_without_manifest_or_remote_reports_unknown(history: History, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(history.root), str(clone), cwd=tmp_path)
    result = run_gitml("diff", "--json", "v1", "HEAD", cwd=clone)
    doc = json.loads(result.stdout)
    assert paths(doc, "modified") == ["data/"]  # the pointer changed; its files are unknown
    assert [u["path"] for u in doc["unknown"]] == ["data/"]
    assert "not in the cache" in doc["unknown"][0]["reason"]
    assert "cannot compare the files inside data/" in result.stderr


def _pointer_oid(root: Path, rev: str, path: str) -> str:
    text = git("show", f"{rev}:{path}", cwd=root)
    return next(line[5:] for line in text.splitlines() if line.startswith("oid: "))


# ls ------------------------------------------------------------------------------------


def ls_json(root: Path, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run_gitml("ls", "--json", *args, cwd=cwd or root).stdout)
    return doc


def test_ls_outputs_at_revisions(history: History) -> None:
    root = history.root
    now = ls_json(root)
    assert now["rev"] == "workspace"
    assert [(e["path"], e["kind"], e["size"]) for e in now["entries"]] == [
        ("data", "dir", sum(len(v) for v in history.head_data.values())),
        ("models/model.bin", "file", len(V1_MODEL)),
        ("more/extra.txt", "file", len(EXTRA)),
    ]
    assert now["entries"][0]["nfiles"] == 5
    old = ls_json(root, "--rev", "v1")
    assert old["rev"] == "v1"
    assert [e["path"] for e in old["entries"]] == ["data", "model.bin"]
    assert old["entries"][1]["oid"] == b3(V1_MODEL)


def test_ls_recursive_lists_files_inside_directories(history: History) -> None:
    entries = ls_json(history.root, "-R", "--rev", "v1", "data")["entries"]
    assert [e["path"] for e in entries] == [
        "data",
        "data/a.csv",
        "data/b.csv",
        "data/run.sh",
        "data/sub/c.csv",
    ]
    files = {e["path"]: e for e in entries[1:]}
    assert files["data/run.sh"]["executable"] is True
    assert all(e["output"] == "data" for e in files.values())
    assert {p: files[p]["oid"] for p in files} == {
        f"data/{name}": b3(data) for name, data in V1_DATA.items()
    }


def test_ls_path_inside_a_directory_and_from_a_subfolder(history: History) -> None:
    root = history.root
    inside = ls_json(root, "data/sub", cwd=root)["entries"]
    assert [(e["path"], e["size"]) for e in inside] == [
        ("data/sub/c.csv", len(V1_DATA["sub/c.csv"]))
    ]
    relative = ls_json(root, "sub/c.csv", cwd=root / "data")["entries"]
    assert [e["path"] for e in relative] == ["data/sub/c.csv"]
    text = run_gitml("ls", "-R", cwd=root).stdout.splitlines()
    assert text[0].endswith("  data/  (5 files)")
    assert text[1].endswith("  data/a.csv")
    assert "models/model.bin" in text[-2]


def test_ls_untracked_path_fails(history: History) -> None:
    result = run_gitml("ls", "--rev", "v1", "data/d.csv", cwd=history.root, check=False)
    assert_user_error(result, "data/d.csv is not in tracked directory data at v1")
    result = run_gitml("ls", "nothing", cwd=history.root, check=False)
    assert_user_error(result, "nothing is not tracked by gitml")


def test_stage_outs_in_ls_diff_and_api_at_each_revision(repo: Path) -> None:
    """Outs recorded in gitml.lock are tracked outputs too, as `dvc ls`/`dvc.api` treat
    stage outputs; their paths come from gitml.yaml with vars read at that revision."""
    import gitml.api

    write(repo / "params.yaml", "name: first\n")
    write(repo / "in.txt", "one\n")
    run_gitml(
        "stage",
        "add",
        "-n",
        "copy",
        "-d",
        "in.txt",
        "-o",
        "${name}.out",
        "cp in.txt ${name}.out",
        cwd=repo,
    )
    run_gitml("repro", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    git("tag", "v1", cwd=repo)
    write(repo / "params.yaml", "name: second\n")
    write(repo / "in.txt", "two\n")
    run_gitml("repro", cwd=repo)

    listed = json.loads(run_gitml("ls", "--json", cwd=repo).stdout)
    assert [e["path"] for e in listed["entries"]] == ["second.out"]
    old = json.loads(run_gitml("ls", "--rev", "v1", "--json", cwd=repo).stdout)
    assert [(e["path"], e["oid"]) for e in old["entries"]] == [("first.out", b3(b"one\n"))]
    doc = diff_json(repo, "v1")
    assert (paths(doc, "added"), paths(doc, "deleted")) == (["second.out"], ["first.out"])
    assert gitml.api.read("first.out", rev="v1", repo=str(repo)) == b"one\n"
    assert gitml.api.read("second.out", repo=str(repo)) == b"two\n"
    (repo / "first.out").unlink(missing_ok=True)
    assert gitml.api.read("first.out", rev="v1", repo=str(repo)) == b"one\n"  # from the cache
