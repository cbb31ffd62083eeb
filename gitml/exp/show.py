"""`exp show` and `exp diff`: experiments as rows in the SPEC 7.2 JSON shape.

Every experiment's record (state, times, metadata, params, metrics) comes out of one
`git for-each-ref`; only the baseline is read through its tree (and, for cached metrics,
its gitml.lock and the cache)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitml import git
from gitml.errors import GitmlError, ObjectNotFoundError
from gitml.exp import refs
from gitml.exp.refs import ExpRef

if TYPE_CHECKING:
    from gitml.workspace import Workspace

Row = dict[str, Any]
_META_KEYS = ("host", "gitml_version", "head", "dirty", "stages")


def _meta(raw: Any) -> dict[str, Any]:
    data = raw if isinstance(raw, dict) else {}
    return {k: data.get(k) for k in _META_KEYS} | {
        "stages": data.get("stages") or {},
    }


def exp_row(exp: ExpRef) -> Row:
    info = exp.info
    row: Row = {
        "name": exp.name,
        "rev": exp.commit,
        "baseline": exp.baseline,
        "state": exp.state,
        "created": info.get("created"),
        "duration_s": info.get("duration_s"),
        "params": info.get("params") or {},
        "metrics": info.get("metrics") or {},
        "meta": _meta(info.get("meta")),
    }
    if info.get("error"):
        row["error"] = info["error"]
    if info.get("stderr_tail"):
        row["stderr_tail"] = info["stderr_tail"]
    return row


def values_at(ws: Workspace, commit: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(params, metrics, complete) of the pipeline committed at `commit`, read as every
    revision is (gitml.pipeline.revision_files: git, then gitml.lock outs from the cache or
    the remote). A file whose bytes cannot be had is left out (complete is then False)."""
    from gitml.pipeline.metrics import metrics_files, params_targets
    from gitml.pipeline.params import flatten
    from gitml.pipeline.project import load_pipelines_at
    from gitml.pipeline.revision_files import RevisionFiles

    pipeline = load_pipelines_at(ws.root, commit)
    if pipeline is None:
        return {}, {}, True
    found: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    wanted = (list(params_targets(pipeline)), metrics_files(pipeline))
    complete = True
    with RevisionFiles(ws) as files:
        for values, paths in zip(found, wanted, strict=True):
            for path in paths:
                try:
                    data = files.load(commit, path)
                except ObjectNotFoundError:
                    complete = False
                    continue
                if data is not None:
                    values[path] = flatten(data)
    return found[0], found[1], complete


def _commit_facts(ws: Workspace, commit: str) -> dict[str, Any]:
    """A commit's date, params and metrics: they never change, so once read completely
    they are kept in `.gitml/tmp/exp-baselines/` and `exp show` reads one small file."""
    import json

    path = ws.tmp_dir / "exp-baselines" / f"{commit}.json"
    try:
        facts: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return facts
    except (OSError, ValueError):
        pass
    params, metrics, complete = values_at(ws, commit)
    created = git.run_bytes(ws.root, ["show", "-s", "--format=%cI", commit]).decode().strip()
    facts = {"created": created, "params": params, "metrics": metrics}
    if complete:
        from gitml.fsutil import atomic_write_bytes

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(facts).encode())
    return facts


def baseline_row(ws: Workspace, commit: str, branch: str | None) -> Row:
    facts = _commit_facts(ws, commit)
    return {
        "name": branch or commit[:7],
        "rev": commit,
        "baseline": commit,
        "state": "success",
        "created": facts["created"],
        "duration_s": None,
        "params": facts["params"],
        "metrics": facts["metrics"],
        "meta": {"host": None, "gitml_version": None, "head": commit, "dirty": False, "stages": {}},
    }


def collect(ws: Workspace, *, all_baselines: bool) -> dict[str, Any]:
    try:
        out = git.run_bytes(ws.root, ["rev-parse", "HEAD", "--symbolic-full-name", "HEAD"])
    except GitmlError:
        refs.baseline_of(ws.root)  # says why: no commit yet
        raise
    head, symbolic = out.decode().split()
    branch = symbolic.removeprefix("refs/heads/") if symbolic.startswith("refs/heads/") else None
    exps = refs.list_refs(ws.root, None if all_baselines else head)
    rows = sorted((exp_row(e) for e in exps), key=lambda r: (str(r["created"]), r["name"]))
    return {"baseline": baseline_row(ws, head, branch), "experiments": rows}


# diff ---------------------------------------------------------------------------------


def values_of(ws: Workspace, text: str) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """(label, params, metrics, baseline) of an experiment name or a git revision."""
    from gitml.revisions import resolve

    head = git.head_commit(ws.root)
    exp = refs.find(ws.root, text, head)
    if exp is not None and "params" in exp.info:
        return text, exp.info.get("params") or {}, exp.info.get("metrics") or {}, exp.baseline
    commit = resolve(ws.root, text)
    params, metrics, _ = values_at(ws, commit)
    parents = git.run_bytes(ws.root, ["rev-list", "--parents", "-n", "1", commit]).split()
    parent = parents[1].decode() if len(parents) > 1 else commit
    return text, params, metrics, parent


def diff(ws: Workspace, a: str, b: str | None) -> tuple[str, str, list[Any], list[Any]]:
    """Changes of params and metrics from B (default: A's baseline) to A."""
    from gitml.pipeline.metrics import diff as values_diff

    label_a, params_a, metrics_a, base = values_of(ws, a)
    if b is None:
        params_b, metrics_b, _ = values_at(ws, base)
        label_b = base[:7]
    else:
        label_b, params_b, metrics_b, _ = values_of(ws, b)
    return label_b, label_a, values_diff(params_b, params_a), values_diff(metrics_b, metrics_a)
