"""why_stale: each reason, from declarations, lock entries and observations."""

from __future__ import annotations

from gitml.hashing import hash_bytes
from gitml.pipeline.model import LockedPath, LockEntry, OutSpec, ParamsSpec, Stage
from gitml.pipeline.params import MISSING
from gitml.pipeline.stale import Observed, ReasonKind, why_stale


def lp(path: str, content: str, nfiles: int | None = None) -> LockedPath:
    return LockedPath(path, hash_bytes(content.encode()), len(content), nfiles)


STAGE = Stage(
    "train",
    ("python train.py",),
    deps=("data.csv", "src"),
    params=(ParamsSpec("params.yaml", ("lr", "model.depth")),),
    outs=(OutSpec("model.pkl"),),
)
ENTRY = LockEntry(
    ("python train.py",),
    deps=(lp("data.csv", "d"), lp("src", "s", nfiles=2)),
    params={"params.yaml": {"lr": 0.1, "model.depth": 3}},
    outs=(lp("model.pkl", "m"),),
)
NOW = {"data.csv": lp("data.csv", "d"), "src": lp("src", "s", 2), "model.pkl": lp("model.pkl", "m")}
PARAMS = {"params.yaml": {"lr": 0.1, "model.depth": 3}}


def kinds(
    stage: Stage = STAGE, entry: LockEntry | None = ENTRY, **changes: object
) -> list[tuple[ReasonKind, str]]:
    paths = dict(NOW)
    params = {k: dict(v) for k, v in PARAMS.items()}
    for key, value in changes.items():
        if key == "params":
            params = value  # type: ignore[assignment]
        else:
            paths[key.replace("__", ".")] = value  # type: ignore[assignment]
    return [(r.kind, r.subject) for r in why_stale(stage, entry, Observed(paths, params))]


def test_up_to_date() -> None:
    assert kinds() == []


def test_never_run_and_always_changed() -> None:
    assert kinds(entry=None) == [(ReasonKind.NEVER_RUN, "")]
    always = Stage(**{**STAGE.__dict__, "always_changed": True})
    assert kinds(stage=always) == [(ReasonKind.ALWAYS_CHANGED, "")]


def test_cmd_and_wdir_changes() -> None:
    assert kinds(stage=Stage(**{**STAGE.__dict__, "cmd": ("python train.py -v",)})) == [
        (ReasonKind.CMD_CHANGED, "")
    ]
    assert kinds(stage=Stage(**{**STAGE.__dict__, "wdir": "sub"})) == [(ReasonKind.CMD_CHANGED, "")]


def test_deps() -> None:
    assert kinds(data__csv=lp("data.csv", "new")) == [(ReasonKind.DEP_CHANGED, "data.csv")]
    assert kinds(data__csv=None) == [(ReasonKind.DEP_MISSING, "data.csv")]
    # A file where a directory was, with the same id, is still a change.
    assert kinds(src=lp("src", "s")) == [(ReasonKind.DEP_CHANGED, "src")]
    fewer = Stage(**{**STAGE.__dict__, "deps": ("data.csv",)})
    assert kinds(stage=fewer) == [(ReasonKind.DEP_CHANGED, "src (no longer declared)")]


def test_params() -> None:
    assert kinds(params={"params.yaml": {"lr": 0.2, "model.depth": 3}}) == [
        (ReasonKind.PARAM_CHANGED, "params.yaml:lr")
    ]
    # 1 and 1.0 and True are different parameter values.
    entry = LockEntry(**{**ENTRY.__dict__, "params": {"params.yaml": {"lr": 1, "model.depth": 3}}})
    assert kinds(entry=entry, params={"params.yaml": {"lr": 1.0, "model.depth": 3}}) == [
        (ReasonKind.PARAM_CHANGED, "params.yaml:lr")
    ]
    assert kinds(entry=entry, params={"params.yaml": {"lr": 1, "model.depth": 3}}) == []
    assert kinds(params={"params.yaml": {"lr": MISSING, "model.depth": 3}}) == [
        (ReasonKind.PARAM_MISSING, "params.yaml:lr")
    ]
    whole = Stage(**{**STAGE.__dict__, "params": (ParamsSpec("params.yaml", None),)})
    assert kinds(stage=whole) == []
    assert kinds(stage=whole, params={"params.yaml": {"lr": 0.1, "model.depth": 3, "x": 1}}) == [
        (ReasonKind.PARAM_CHANGED, "params.yaml:x")
    ]


def test_outs() -> None:
    assert kinds(model__pkl=None) == [(ReasonKind.OUT_MISSING, "model.pkl")]
    assert kinds(model__pkl=lp("model.pkl", "edited")) == [(ReasonKind.OUT_CHANGED, "model.pkl")]


def test_several_reasons_are_all_listed() -> None:
    got = kinds(
        data__csv=None, model__pkl=None, params={"params.yaml": {"lr": 9, "model.depth": 3}}
    )
    assert [k for k, _ in got] == [
        ReasonKind.DEP_MISSING,
        ReasonKind.PARAM_CHANGED,
        ReasonKind.OUT_MISSING,
    ]
