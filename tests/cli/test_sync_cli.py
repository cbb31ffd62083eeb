"""push / fetch / pull / status --remote through the installed `gitml`, against a folder
remote and S3 (moto's server on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gitml.hashing import hash_bytes, hash_file
from tests.conftest import GITML, git, make_repo, run_gitml, write
from tests.remote_layout import packed, stored
from tests.s3_endpoint import S3Endpoint, free_port

Configure = Callable[[Path], str]  # sets up a default remote in a repo; returns its name


def _init(path: Path) -> Path:
    make_repo(path)
    run_gitml("init", cwd=path)
    return path


def _objects(store: Path) -> dict[str, Path]:
    """Objects in a folder remote: oid hex -> file."""
    found = {}
    base = store / "objects" / "blake3"
    if base.is_dir():
        for shard in base.iterdir():
            for entry in shard.iterdir():
                if len(entry.name) == 62:
                    found[shard.name + entry.name] = entry
    return found


def _packed(store: Path) -> dict[str, tuple[Path, int, int]]:
    """Packed objects in a folder remote: oid hex -> (pack file, offset, length)."""
    return packed(store)


def _stored(store: Path) -> set[str]:
    """Every object a folder remote holds, loose or packed."""
    return stored(store)


def _snapshot(root: Path, *names: str) -> dict[str, tuple[bytes, bool]]:
    files = {}
    for name in names:
        top = root / name
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for p in paths:
            files[p.relative_to(root).as_posix()] = (p.read_bytes(), os.access(p, os.X_OK))
    return files


def _pointer_oid(pointer: Path) -> str:
    line = next(ln for ln in pointer.read_text().splitlines() if ln.startswith("oid: "))
    return line.removeprefix("oid: blake3:")


def _source(tmp_path: Path, configure: Configure) -> tuple[Path, str]:
    src = _init(tmp_path / "src")
    for i in range(12):
        write(src / "data" / f"part{i % 3}" / f"f{i}.txt", f"row {i}\n" * (i + 1))
    write(src / "data" / "same-a.txt", "duplicate content\n")
    write(src / "data" / "same-b.txt", "duplicate content\n")
    run_script = write(src / "data" / "run.sh", "#!/bin/sh\necho hi\n")
    run_script.chmod(0o755)
    write(src / "model.bin", os.urandom(5 * 1024 * 1024 + 17))  # above the in-memory limit
    run_gitml("add", "data", "model.bin", cwd=src)
    name = configure(src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "data", cwd=src)
    return src, name


@pytest.fixture
def folder_remote(tmp_path: Path) -> Configure:
    def configure(repo: Path) -> str:
        run_gitml("remote", "add", "-d", "origin", str(tmp_path / "store"), cwd=repo)
        return "origin"

    return configure


@pytest.fixture
def s3_remote(s3_endpoint: S3Endpoint, s3_bucket: str) -> Configure:
    def configure(repo: Path) -> str:
        run_gitml("remote", "add", "-d", "s3", f"s3://{s3_bucket}/team/data", cwd=repo)
        run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=repo)
        return "s3"

    return configure


@pytest.fixture(params=["folder", "s3"])
def remote(request: pytest.FixtureRequest) -> Configure:
    fixture: Configure = request.getfixturevalue(f"{request.param}_remote")
    return fixture


def _clone(src: Path, dst: Path) -> Path:
    git("clone", "-q", str(src), str(dst), cwd=src.parent)
    return dst


def test_push_clone_pull_gives_identical_bytes(tmp_path: Path, remote: Configure) -> None:
    src, name = _source(tmp_path, remote)
    first = json.loads(run_gitml("push", "--json", cwd=src).stdout)
    assert first["remote"] == name
    assert first["transferred"] == 16  # 15 distinct files + 1 manifest (two files share one)
    assert first["failed"] == [] and first["not_in_cache"] == []
    second = json.loads(run_gitml("push", "--json", cwd=src).stdout)
    # model.bin, and the data directory vouched for by its dirs/ record (files not listed)
    assert second["transferred"] == 0 and second["already_present"] == 2

    dst = _clone(src, tmp_path / "dst")
    assert not (dst / "model.bin").exists()
    pulled = run_gitml("pull", cwd=dst)
    assert "Fetched 16 objects" in pulled.stdout
    assert _snapshot(dst, "data", "model.bin") == _snapshot(src, "data", "model.bin")
    assert json.loads(run_gitml("status", "--json", cwd=dst).stdout) == {"outputs": []}
    again = json.loads(run_gitml("pull", "--json", cwd=dst).stdout)
    assert again["transferred"] == 0 and again["restored"] == []


def test_s3_credentials_from_config_local(
    tmp_path: Path, s3_remote: Configure, s3_endpoint: S3Endpoint
) -> None:
    src, name = _source(tmp_path, s3_remote)
    no_env_creds = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    refused = run_gitml("push", cwd=src, env=no_env_creds, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"gitml: error: remote '{name}': no usable credentials")
    run_gitml("remote", "modify", "--local", name, "key", "testing", cwd=src)
    run_gitml("remote", "modify", "--local", name, "secret", "testing", cwd=src)
    run_gitml("push", cwd=src, env=no_env_creds)
    assert "testing" not in (src / ".gitml/config").read_text()
    listed = s3_endpoint.client().list_objects_v2(Bucket=_bucket_of(src, name))
    keys = {o["Key"] for o in listed["Contents"]}
    assert "team/data/gitml-remote.json" in keys
    # model.bin (5 MiB) loose; the 14 small files in one pack, the manifest in another
    assert sum(1 for k in keys if k.startswith("team/data/objects/blake3/")) == 1
    assert sum(1 for k in keys if k.startswith("team/data/packs/") and k.endswith(".idx")) == 2
    assert sum(1 for k in keys if k.startswith("team/data/packs/") and k.endswith(".pack")) == 2


def _bucket_of(repo: Path, name: str) -> str:
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    url = next(r["url"] for r in listed["remotes"] if r["name"] == name)
    return str(url).removeprefix("s3://").split("/", 1)[0]


def test_status_remote_lists_what_the_remote_lacks(tmp_path: Path, remote: Configure) -> None:
    src, name = _source(tmp_path, remote)
    before = json.loads(run_gitml("status", "--remote", "--json", cwd=src).stdout)
    assert before["remote"] == name
    assert before["missing_objects"] == 16
    by_path = {o["path"]: o for o in before["outputs"]}
    assert by_path["model.bin"]["missing_objects"] == 1
    assert by_path["model.bin"]["missing_bytes"] == 5 * 1024 * 1024 + 17
    assert by_path["data"]["missing_objects"] == 15  # 14 distinct files + manifest
    assert by_path["data"]["not_in_cache"] == 0
    run_gitml("push", "model.bin", cwd=src)
    middle = json.loads(run_gitml("status", "--remote", name, "--json", cwd=src).stdout)
    assert [o["path"] for o in middle["outputs"]] == ["data"]
    run_gitml("push", cwd=src)
    after = json.loads(run_gitml("status", "-r", name, "--json", cwd=src).stdout)
    assert after["outputs"] == [] and after["missing_objects"] == 0
    assert f"Everything is on '{name}'" in run_gitml("status", "--remote", cwd=src).stdout


def test_status_remote_quiet_exit_code(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    lacking = run_gitml("status", "--remote", "-q", cwd=src, check=False)
    assert (lacking.returncode, lacking.stdout, lacking.stderr) == (1, "", "")
    run_gitml("push", cwd=src)
    complete = run_gitml("status", "--remote", "-q", cwd=src, check=False)
    assert (complete.returncode, complete.stdout) == (0, "")


def test_status_remote_same_answer_without_light_s3_reads(
    tmp_path: Path, s3_remote: Configure
) -> None:
    """gitml.remote.s3_reads answers status --remote; s3fs alone (GITML_S3_LIGHT_READS=0) must
    agree at every step."""
    src, name = _source(tmp_path, s3_remote)
    through_s3fs = {"GITML_S3_LIGHT_READS": "0"}
    for push in ([], ["model.bin"], ["data/part1"], ["data"]):
        if push:
            run_gitml("push", *push, cwd=src)
        light = json.loads(run_gitml("status", "--remote", "--json", cwd=src).stdout)
        plain = json.loads(
            run_gitml("status", "--remote", "--json", cwd=src, env=through_s3fs).stdout
        )
        assert light == plain, push
    assert light["remote"] == name and light["missing_objects"] == 0


def test_corrupt_folder_object_is_detected(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    run_gitml("push", cwd=src)
    oid = _pointer_oid(src / "model.bin.gitml")
    target = _objects(tmp_path / "store")[oid]
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[1000] ^= 0x01
    target.write_bytes(bytes(data))

    dst = _clone(src, tmp_path / "dst")
    result = run_gitml("pull", cwd=dst, check=False)
    assert result.returncode == 1
    assert f"blake3:{oid}" in result.stderr and "remote 'origin'" in result.stderr
    assert "corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (dst / ".gitml/cache/blake3" / oid[:2] / oid[2:]).exists()
    assert not (dst / "model.bin").exists()
    assert os.listdir(dst / ".gitml/cache/tmp") == []
    # the healthy output was still restored
    assert _snapshot(dst, "data") == _snapshot(src, "data")


def test_corrupt_s3_object_is_detected(
    tmp_path: Path, s3_remote: Configure, s3_endpoint: S3Endpoint
) -> None:
    src, name = _source(tmp_path, s3_remote)
    run_gitml("push", cwd=src)
    manifest_oid = _pointer_oid(src / "data.gitml")
    # replace one small file of the directory on the server
    manifest = (src / ".gitml/cache/blake3" / manifest_oid[:2] / manifest_oid[2:]).read_text()
    entry = next(ln for ln in manifest.splitlines() if ln.endswith(" part0/f3.txt"))
    oid = entry.split()[0].removeprefix("blake3:")
    # flip one byte of that file inside its pack on the server
    client, bucket = s3_endpoint.client(), _bucket_of(src, name)
    listed = client.list_objects_v2(Bucket=bucket, Prefix="team/data/packs/")["Contents"]
    for key in sorted(o["Key"] for o in listed if o["Key"].endswith(".idx")):
        index = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        line = next((ln for ln in index.splitlines() if ln.startswith(oid)), None)
        if line is not None:
            pack_key = key.removesuffix(".idx") + ".pack"
            offset = int(line.split()[1])
            break
    pack = bytearray(client.get_object(Bucket=bucket, Key=pack_key)["Body"].read())
    pack[offset] ^= 0x01
    client.put_object(Bucket=bucket, Key=pack_key, Body=bytes(pack))

    dst = _clone(src, tmp_path / "dst")
    result = run_gitml("pull", "data", cwd=dst, check=False)
    assert result.returncode == 1
    assert f"blake3:{oid}" in result.stderr and f"remote '{name}'" in result.stderr
    assert pack_key.removeprefix("team/data/") in result.stderr  # names the pack
    assert not (dst / ".gitml/cache/blake3" / oid[:2] / oid[2:]).exists()
    assert not (dst / "data").exists()
    assert os.listdir(dst / ".gitml/cache/tmp") == []


def test_killed_push_is_finished_by_a_second_push(tmp_path: Path) -> None:
    src = _init(tmp_path / "src")
    for i in range(1500):
        write(src / "many" / f"d{i % 10}" / f"{i:05}.bin", os.urandom(4096))
    run_gitml("add", "many", cwd=src)
    store = tmp_path / "store"
    run_gitml("remote", "add", "-d", "origin", str(store), cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "many", cwd=src)

    assert GITML
    small_packs = {"GITML_REMOTE_PACK_SIZE": str(64 * 1024)}  # 16 objects a pack
    proc = subprocess.Popen(
        [GITML, "push", "-j", "1"],
        cwd=src,
        env={**os.environ, "CI": "1", **small_packs},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(store.glob("packs/*.idx"))) < 6:
        time.sleep(0.002)
    assert proc.poll() is None, "push ended before it could be killed; use more files"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(_stored(store))
    assert 96 <= partial < 1501

    second = json.loads(run_gitml("push", "--json", cwd=src, env=small_packs).stdout)
    assert second["already_present"] >= partial
    assert second["already_present"] + second["transferred"] == 1501
    packed = _packed(store)
    assert len(packed) == 1501
    for hexdigest, (pack, offset, length) in packed.items():
        with open(pack, "rb") as handle:
            handle.seek(offset)
            assert hash_bytes(handle.read(length)).hexdigest == hexdigest, pack
    for pack in store.glob("packs/*.pack"):  # packs are named by their content
        assert (
            str(hash_file(pack)) == f"blake3:{pack.stem}" or not pack.with_suffix(".idx").exists()
        )

    dst = _clone(src, tmp_path / "dst")
    run_gitml("pull", cwd=dst)
    assert _snapshot(dst, "many") == _snapshot(src, "many")


def test_unreachable_endpoint_fails_fast_with_one_line(tmp_path: Path) -> None:
    repo = _init(tmp_path / "repo")
    write(repo / "f.txt", "x")
    run_gitml("add", "f.txt", cwd=repo)
    run_gitml("remote", "add", "-d", "down", "s3://bucket/x", cwd=repo)
    closed = free_port()
    run_gitml("remote", "modify", "down", "endpoint_url", f"http://127.0.0.1:{closed}", cwd=repo)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for command in (["push"], ["pull"], ["status", "--remote"]):
        result = run_gitml(*command, cwd=repo, env=env, check=False)
        assert result.returncode == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("gitml: error: remote 'down' is unreachable")


def test_missing_bucket_is_one_line(tmp_path: Path, s3_endpoint: S3Endpoint) -> None:
    repo = _init(tmp_path / "repo")
    write(repo / "f.txt", "x")
    run_gitml("add", "f.txt", cwd=repo)
    run_gitml("remote", "add", "-d", "s3", "s3://no-such-bucket-here/x", cwd=repo)
    run_gitml("remote", "modify", "s3", "endpoint_url", s3_endpoint.url, cwd=repo)
    for command in (["push"], ["fetch"], ["status", "--remote"]):
        result = run_gitml(*command, cwd=repo, check=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "gitml: error: remote 's3': bucket 'no-such-bucket-here' does not exist"
        ]


def test_missing_folder_remote_on_fetch(tmp_path: Path) -> None:
    repo = _init(tmp_path / "repo")
    run_gitml("remote", "add", "-d", "gone", str(tmp_path / "nowhere"), cwd=repo)
    write(repo / "f.txt", "x")
    run_gitml("add", "f.txt", cwd=repo)
    result = run_gitml("fetch", cwd=repo, check=False)
    assert result.returncode == 1
    assert "remote 'gone': folder" in result.stderr and "does not exist" in result.stderr


def test_newer_remote_format_is_refused(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    run_gitml("push", cwd=src)
    (tmp_path / "store" / "gitml-remote.json").write_text('{"format": 7}\n')
    dst = _clone(src, tmp_path / "dst")
    for command in (["pull"], ["push"]):
        result = run_gitml(*command, cwd=dst, check=False)
        assert result.returncode == 1
        assert "remote 'origin' uses format 7; this gitml reads formats 1 to 3" in result.stderr
    assert not (dst / "model.bin").exists()


def test_fetch_rev_reads_other_revisions_through_git(
    tmp_path: Path, folder_remote: Configure
) -> None:
    src, _ = _source(tmp_path, folder_remote)
    old = _snapshot(src, "data", "model.bin")
    run_gitml("push", cwd=src)
    write(src / "data" / "part0" / "f0.txt", "changed\n")
    write(src / "model.bin", b"a much smaller model\n")
    run_gitml("commit", cwd=src)
    git("commit", "-qam", "v2", cwd=src)
    git("tag", "v2", cwd=src)
    run_gitml("push", cwd=src)

    dst = _clone(src, tmp_path / "dst")
    run_gitml("pull", cwd=dst)
    assert (dst / "model.bin").read_bytes() == b"a much smaller model\n"
    fetched = json.loads(run_gitml("fetch", "--rev", "HEAD~1", "--json", cwd=dst).stdout)
    assert fetched["transferred"] == 3  # old model, old f0.txt, old manifest
    # prove the old revision is complete locally: remove the remote, then check it out
    os.rename(tmp_path / "store", tmp_path / "store-moved")
    git("checkout", "-q", "HEAD~1", cwd=dst)
    run_gitml("checkout", cwd=dst)
    assert _snapshot(dst, "data", "model.bin") == old

    bad = run_gitml("fetch", "--rev", "no-such-rev", cwd=dst, check=False)
    assert bad.returncode == 1 and "unknown revision 'no-such-rev'" in bad.stderr


def test_fetch_all_tags_and_branches(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    git("tag", "-a", "-m", "first", "v1", cwd=src)
    run_gitml("push", cwd=src)
    write(src / "model.bin", b"second model\n")
    run_gitml("commit", cwd=src)
    git("commit", "-qam", "v2", cwd=src)
    run_gitml("push", cwd=src)
    dst = _clone(src, tmp_path / "dst")
    tags = json.loads(run_gitml("fetch", "--all-tags", "--json", cwd=dst).stdout)
    # workspace (HEAD) objects plus the tag's older model
    assert tags["transferred"] == 17
    assert (
        json.loads(run_gitml("fetch", "--all-branches", "--json", cwd=dst).stdout)["transferred"]
        == 0
    )


def test_pull_one_file_inside_a_tracked_directory(tmp_path: Path, remote: Configure) -> None:
    src, _ = _source(tmp_path, remote)
    run_gitml("push", cwd=src)
    dst = _clone(src, tmp_path / "dst")
    result = json.loads(run_gitml("pull", "data/part1/f4.txt", "--json", cwd=dst).stdout)
    assert result["transferred"] == 2  # the manifest and the file
    assert result["restored"] == ["data/part1/f4.txt"]
    assert (dst / "data/part1/f4.txt").read_bytes() == (src / "data/part1/f4.txt").read_bytes()
    assert sorted(p.name for p in (dst / "data").rglob("*") if p.is_file()) == ["f4.txt"]
    # an uncommitted edit to that file is not overwritten without --force
    write(dst / "data/part1/f4.txt", "local edit\n")
    refused = run_gitml("pull", "data/part1/f4.txt", cwd=dst, check=False)
    assert refused.returncode == 1 and "uncommitted changes" in refused.stderr
    assert (dst / "data/part1/f4.txt").read_text() == "local edit\n"
    run_gitml("pull", "--force", "data/part1/f4.txt", cwd=dst)
    assert (dst / "data/part1/f4.txt").read_bytes() == (src / "data/part1/f4.txt").read_bytes()
    unknown = run_gitml("pull", "data/part1/nope.txt", cwd=dst, check=False)
    assert unknown.returncode == 1 and "is not in tracked directory data" in unknown.stderr


def test_push_one_file_inside_a_tracked_directory(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    pushed = json.loads(run_gitml("push", "data/run.sh", "--json", cwd=src).stdout)
    assert pushed["transferred"] == 2  # that file and the manifest
    assert len(_stored(tmp_path / "store")) == 2


def test_push_names_outputs_missing_from_the_cache(
    tmp_path: Path, folder_remote: Configure
) -> None:
    src, _ = _source(tmp_path, folder_remote)
    oid = _pointer_oid(src / "model.bin.gitml")
    (src / ".gitml/cache/blake3" / oid[:2] / oid[2:]).unlink()
    result = run_gitml("push", cwd=src, check=False)
    assert result.returncode == 1
    assert "model.bin: not in the local cache" in result.stderr
    assert len(_stored(tmp_path / "store")) == 15  # everything else went up


def test_http_remote_is_read_only(tmp_path: Path, folder_remote: Configure) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    src, _ = _source(tmp_path, folder_remote)
    run_gitml("push", cwd=src)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "store"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dst = _clone(src, tmp_path / "dst")
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run_gitml("remote", "add", "web", url, cwd=dst)
        pulled = json.loads(run_gitml("pull", "-r", "web", "--json", cwd=dst).stdout)
        assert pulled["transferred"] == 16
        assert _snapshot(dst, "data", "model.bin") == _snapshot(src, "data", "model.bin")
        status = json.loads(run_gitml("status", "-r", "web", "--json", cwd=dst).stdout)
        assert status["outputs"] == []
        refused = run_gitml("push", "-r", "web", cwd=dst, check=False)
        assert refused.returncode == 1 and "remote 'web' (http://) is read-only" in refused.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_directory_records(tmp_path: Path, folder_remote: Configure) -> None:
    src, _ = _source(tmp_path, folder_remote)
    store = tmp_path / "store"
    manifest = _pointer_oid(src / "data.gitml")
    record = store / "dirs" / "blake3" / manifest[:2] / manifest[2:]
    run_gitml("push", "data/run.sh", cwd=src)
    assert not record.exists()  # one file of the directory is not the whole directory
    run_gitml("push", cwd=src)
    assert record.exists() and record.read_bytes() == b""

    # without the record the remote is listed: a file deleted by hand is seen as missing
    entry = next(
        ln.split()[0].removeprefix("blake3:")
        for ln in (src / ".gitml/cache/blake3" / manifest[:2] / manifest[2:])
        .read_text()
        .splitlines()
        if ln.endswith(" part2/f5.txt")
    )
    pack = _packed(store)[entry][0]
    lost = {h for h, (p, _, _) in _packed(store).items() if p == pack}
    assert len(lost) == 13  # the directory's other files share one pack (run.sh went first)
    pack.with_suffix(".idx").unlink()  # index first: what gc --remote does
    pack.unlink()
    record.unlink()
    lacking = json.loads(run_gitml("status", "--remote", "--json", cwd=src).stdout)
    assert [(o["path"], o["missing_objects"]) for o in lacking["outputs"]] == [("data", 13)]
    # with a record that lies (objects deleted behind gitml's back) pull names the object
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_bytes(b"")
    dst = _clone(src, tmp_path / "dst")
    result = run_gitml("pull", cwd=dst, check=False)
    assert result.returncode == 1
    assert f"object blake3:{entry} (data/part2/f5.txt) is not on remote 'origin'" in result.stderr
    run_gitml("push", cwd=src)  # the record is trusted: push cannot see the hole
    record.unlink()
    repaired = json.loads(run_gitml("push", "--json", cwd=src).stdout)
    assert repaired["transferred"] == 13
    run_gitml("pull", cwd=dst)
    assert _snapshot(dst, "data") == _snapshot(src, "data")


def test_fetch_rev_brings_stage_outs_of_that_revision(
    tmp_path: Path, folder_remote: Configure
) -> None:
    """`fetch --rev` reads gitml.lock at the revision as it reads pointers; an out marked
    `push: false` is not expected on the remote, so it is not asked for."""
    src = _init(tmp_path / "src")
    folder_remote(src)
    write(src / "in.txt", "one\n")
    write(
        src / "gitml.yaml",
        "stages:\n  copy:\n    cmd: cp in.txt out.txt && (cat in.txt; echo here) > local.txt\n"
        "    deps: [in.txt]\n    outs:\n    - out.txt\n    - local.txt:\n        push: false\n",
    )
    run_gitml("repro", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-qm", "v1", cwd=src)
    run_gitml("push", cwd=src)
    write(src / "in.txt", "two\n")
    run_gitml("repro", cwd=src)
    git("commit", "-qam", "v2", cwd=src)
    run_gitml("push", cwd=src)

    dst = _clone(src, tmp_path / "dst")
    old_out = hash_bytes(b"one\n")
    assert not (dst / ".gitml/cache/blake3" / old_out.hexdigest[:2]).exists()
    fetched = json.loads(run_gitml("fetch", "--rev", "HEAD~1", "--json", cwd=dst).stdout)
    assert fetched["transferred"] == 1 and fetched["failed"] == []
    cached = dst / ".gitml/cache/blake3" / old_out.hexdigest[:2] / old_out.hexdigest[2:]
    assert cached.read_bytes() == b"one\n"


def test_s3fs_missing_is_one_line_even_after_light_reads(
    tmp_path: Path, s3_remote: Configure
) -> None:
    """Reads need no s3fs, so it is first imported in the middle of a push: an install
    without it still gets open_remote's one-line hint, not a traceback."""
    src, name = _source(tmp_path, s3_remote)
    shim = write(tmp_path / "shim" / "s3fs" / "__init__.py", "raise ImportError('no s3fs here')\n")
    env = {"PYTHONPATH": str(shim.parent.parent)}
    status = run_gitml("status", "--remote", "--json", cwd=src, env=env)
    assert json.loads(status.stdout)["missing_objects"] == 16  # the light reader alone
    result = run_gitml("push", cwd=src, env=env, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"gitml: error: remote '{name}': s3:// needs s3fs (pip install s3fs)"
    ]
