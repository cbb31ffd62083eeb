"""`gitml verify` (SPEC section 8, issue 19 item 11): each missing or corrupt object is
named with the outputs that use it, in the cache and on a remote; `--repair` heals the
cache from the remote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import b3, object_path
from tests.cli.test_sync_cli import Configure, folder_remote, s3_remote
from tests.conftest import git, run_gitml, write
from tests.remote_layout import flip_last_byte, packed

__all__ = ["folder_remote", "s3_remote"]

MiB = 1024 * 1024
SMALL = {"GITML_REMOTE_CHUNK_MIN": str(8 * MiB), "GITML_REMOTE_PACK_SIZE": str(MiB)}


def _verify(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_gitml("verify", "--json", *args, cwd=repo, env=SMALL, check=False)
    assert result.returncode in (0, 1), result
    return result.returncode, json.loads(result.stdout)


def _pushed(repo: Path, configure: Configure) -> dict[str, bytes]:
    files = {f"data/f{i:02}": os.urandom(3000) + bytes([i]) for i in range(20)}
    files["mid.bin"] = os.urandom(2 * MiB)  # loose on the remote
    files["big.bin"] = os.urandom(9 * MiB)  # chunked on the remote
    for name, data in files.items():
        write(repo / name, data)
    run_gitml("add", "data", "mid.bin", "big.bin", cwd=repo)
    configure(repo)
    run_gitml("push", cwd=repo, env=SMALL)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    return files


def _problems(doc: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    return sorted((p["place"], p["state"], p["oid"] or "", p["outputs"]) for p in doc["problems"])


def test_intact_data_verifies_clean_locally_and_on_the_remote(
    repo: Path, tmp_path: Path, folder_remote: Configure
) -> None:
    files = _pushed(repo, folder_remote)
    code, doc = _verify(repo, "--remote", "origin")
    assert code == 0 and doc["ok"] is True and doc["problems"] == []
    assert doc["objects"] == len(files) + 1  # and the directory's manifest
    assert doc["remote_objects"] == doc["objects"]
    text = run_gitml("verify", cwd=repo)
    assert "in the cache: all intact" in text.stdout


def test_a_flipped_byte_in_a_cache_object_is_named_and_repaired(
    repo: Path, tmp_path: Path, folder_remote: Configure
) -> None:
    files = _pushed(repo, folder_remote)
    oid = b3(files["data/f03"])
    obj = object_path(repo, oid)
    obj.chmod(0o644)
    obj.write_bytes(files["data/f03"][:-1] + b"\xff")
    code, doc = _verify(repo)
    assert code == 1 and doc["ok"] is False
    assert _problems(doc) == [("cache", "corrupt", oid, ["data/f03"])]
    text = run_gitml("verify", cwd=repo, check=False)
    assert text.returncode == 1
    assert f"corrupt (cache): cache object {oid} is corrupt" in text.stdout
    assert "used by data/f03" in text.stdout
    assert "gitml verify --repair" in text.stderr

    code, doc = _verify(repo, "--repair")
    assert code == 0 and doc["problems"][0]["repaired"] is True
    assert obj.read_bytes() == files["data/f03"]
    assert _verify(repo)[0] == 0


def test_a_missing_cache_object_is_named_and_repaired(
    repo: Path, tmp_path: Path, folder_remote: Configure
) -> None:
    files = _pushed(repo, folder_remote)
    oid = b3(files["big.bin"])
    object_path(repo, oid).unlink()
    code, doc = _verify(repo)
    assert code == 1
    assert _problems(doc) == [("cache", "missing", oid, ["big.bin"])]
    code, doc = _verify(repo, "--repair", "--remote", "origin")
    assert code == 0 and doc["problems"][0]["repaired"] is True
    assert object_path(repo, oid).read_bytes() == files["big.bin"]


@pytest.mark.parametrize("configure_name", ["folder_remote", "s3_remote"])
def test_a_flipped_byte_in_a_remote_pack_is_named(
    repo: Path, tmp_path: Path, configure_name: str, request: pytest.FixtureRequest
) -> None:
    configure: Configure = request.getfixturevalue(configure_name)
    files = _pushed(repo, configure)
    oid = b3(files["data/f07"])
    if configure_name == "folder_remote":
        flip_last_byte(tmp_path / "store", oid[len("blake3:") :])
    else:
        _flip_in_s3_pack(repo, oid)
    assert _verify(repo)[0] == 0  # the cache is intact
    code, doc = _verify(repo, "--remote", doc_remote(repo))
    assert code == 1
    problems = _problems(doc)
    assert ("remote", "corrupt", oid, ["data/f07"]) in problems
    assert any(p["oid"] is None and ".pack" in p["message"] for p in doc["problems"])
    text = run_gitml("verify", "--remote", doc_remote(repo), cwd=repo, env=SMALL, check=False)
    assert "used by data/f07" in text.stdout


def doc_remote(repo: Path) -> str:
    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)
    return str(listed["remotes"][0]["name"])


def _flip_in_s3_pack(repo: Path, oid: str) -> None:
    import boto3

    listed = json.loads(run_gitml("remote", "list", "--json", cwd=repo).stdout)["remotes"][0]
    bucket, _, prefix = str(listed["url"]).removeprefix("s3://").partition("/")
    client = boto3.client(
        "s3", endpoint_url=listed["options"]["endpoint_url"], region_name="us-east-1"
    )
    keys = [
        o["Key"]
        for o in client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/packs/")["Contents"]
    ]
    from gitml.packfile import parse_index

    for key in keys:
        if not key.endswith(".idx"):
            continue
        pack_id = key.rsplit("/", 1)[1][: -len(".idx")]
        raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        entries = parse_index(raw, pack_id, key).entries
        hit = next((span for o, span in entries.items() if str(o) == oid), None)
        if hit is None:
            continue
        pack_key = key[: -len(".idx")] + ".pack"
        data = bytearray(client.get_object(Bucket=bucket, Key=pack_key)["Body"].read())
        data[hit[0] + hit[1] - 1] ^= 0x01
        client.put_object(Bucket=bucket, Key=pack_key, Body=bytes(data))
        return
    raise AssertionError(f"{oid} is in no pack")


def test_a_truncated_chunk_list_is_named(
    repo: Path, tmp_path: Path, folder_remote: Configure
) -> None:
    files = _pushed(repo, folder_remote)
    hexdigest = b3(files["big.bin"])[len("blake3:") :]
    chunk_list = tmp_path / "store" / "chunks" / "blake3" / hexdigest[:2] / hexdigest[2:]
    chunk_list.chmod(0o644)
    chunk_list.write_bytes(chunk_list.read_bytes()[:-70])
    assert packed(tmp_path / "store")  # the chunks themselves are intact
    code, doc = _verify(repo, "--remote", "origin")
    assert code == 1
    [problem] = doc["problems"]
    assert (problem["place"], problem["state"], problem["outputs"]) == (
        "remote",
        "corrupt",
        ["big.bin"],
    )
    assert "chunk list" in problem["message"]


def test_all_commits_checks_objects_of_older_commits(
    repo: Path, tmp_path: Path, folder_remote: Configure
) -> None:
    files = _pushed(repo, folder_remote)
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    write(repo / "mid.bin", b"new version")
    run_gitml("commit", "mid.bin", cwd=repo)
    git("commit", "-qam", "v2", cwd=repo)
    old = b3(files["mid.bin"])
    object_path(repo, old).unlink()
    assert _verify(repo)[0] == 0  # the workspace no longer needs it
    code, doc = _verify(repo, "--all-commits")
    assert code == 1
    assert _problems(doc) == [("cache", "missing", old, [f"mid.bin @ {first[:8]}"])]
