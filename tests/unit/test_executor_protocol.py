"""The executor protocol's messages and a stage's `resources:`."""

from __future__ import annotations

import json

import pytest

from gitml.errors import FormatError
from gitml.executor.protocol import (
    PROTOCOL_VERSION,
    Action,
    ActionResult,
    InlineFile,
    OutSchema,
    StoreSpec,
    tail,
)
from gitml.hashing import hash_bytes
from gitml.pipeline.model import LockedPath, Resources
from gitml.pipeline.resources import parse_resources
from gitml.pipeline.spec import build_stage


def _action() -> Action:
    oid = hash_bytes(b"data")
    return Action(
        stage="train",
        cmd=("python train.py", "echo done"),
        wdir="src",
        env={"GITML_STAGE": "train"},
        inputs=(LockedPath("data.csv", oid, 4), LockedPath("images", oid, 10, nfiles=2)),
        files=(InlineFile("train.py", b"\x00print(1)\n", executable=True),),
        outs=("model.bin",),
        store=StoreSpec("remote", "s3://bucket/ml", "origin", {"endpoint_url": "http://x"}),
        timeout=90.0,
        schemas=(OutSchema("model.bin", "schemas/model.yaml", "gitml-schema: 1\n"),),
    )


def test_action_and_result_survive_json() -> None:
    action = _action()
    assert Action.from_json(action.to_json()) == action
    result = ActionResult(
        "train", 0, (LockedPath("model.bin", hash_bytes(b"m"), 1, executable=True),),
        "ok\n", "", 1.5, {"cpu_seconds": 1.0, "max_rss_mib": 20.0}, "node1",
    )  # fmt: skip
    assert ActionResult.from_json(result.to_json()) == result
    assert result.ok and not ActionResult("train", 0, error="remote gone").ok


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(version=PROTOCOL_VERSION + 1),
        lambda d: d["files"][0].update(path="../escape.py"),
        lambda d: d.update(outs=["/etc/passwd"]),
        lambda d: d["inputs"][0].update(oid="md5:xyz"),
        lambda d: d["store"].update(kind="ftp"),
        lambda d: d["schemas"][0].update(out="../model.bin"),
        lambda d: d.pop("cmd"),
    ],
)
def test_malformed_or_hostile_actions_are_refused(edit: object) -> None:
    data = json.loads(_action().to_json())
    edit(data)  # type: ignore[operator]
    with pytest.raises(FormatError):
        Action.from_json(json.dumps(data))


def test_tail_keeps_the_last_lines() -> None:
    text = tail(b"".join(b"line %d\n" % i for i in range(100)))
    assert text.splitlines() == [f"line {i}" for i in range(80, 100)]


def test_resources_parse_sizes_and_durations() -> None:
    parsed = parse_resources({"cpus": 4, "gpus": 1, "memory": "2GiB", "timeout": "30m"}, "s")
    assert parsed == Resources(cpus=4.0, gpus=1.0, memory=2 * 2**30, timeout=1800.0)
    assert parse_resources({"memory": "4GB"}, "s").memory == 4_000_000_000
    assert parse_resources({"memory": 1000, "timeout": 2.5}, "s") == Resources(
        memory=1000, timeout=2.5
    )
    assert parse_resources(None, "s") == Resources()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cpu": 2}, "unknown key 'cpu'"),
        ({"cpus": -1}, "positive number"),
        ({"memory": "lots"}, "not a size"),
        ({"timeout": "soon"}, "not a duration"),
        ([1], "must be a mapping"),
    ],
)
def test_bad_resources_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_resources(data, "stages.train: resources")


def test_a_stage_declares_resources() -> None:
    stage = build_stage(
        "train", {"cmd": "x", "resources": {"gpus": 1, "timeout": 60}}, "", "stages.train"
    )
    assert stage.resources == Resources(gpus=1.0, timeout=60.0)
