"""What `model show` prints: each version with its commit, date, path, content id and
the metrics at its commit, and which version each stage holds.

Thousands of versions point at far fewer commits, and those share a few gitml.yaml
contents. So the files needed are read in two batched `git cat-file --batch` calls (one
process each, one round trip): gitml.yaml and the model's pointer file at every commit,
then the metrics files those gitml.yaml declare. Each distinct gitml.yaml and metrics
file content is parsed once. Only what git does not hold (a metrics file or model that is
a cached stage out, read through gitml.lock) goes through RevisionFiles, one by one.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitml.errors import GitError, GitmlError
from gitml.pipeline import PIPELINE_FILE
from gitml.pipeline.metrics import metrics_files
from gitml.pipeline.params import flatten, parse
from gitml.pipeline.spec import parse_pipeline
from gitml.pointer import POINTER_SUFFIX
from gitml.registry.state import Model, Registry, Version

if TYPE_CHECKING:
    from gitml.pipeline.revision_files import RevisionFiles
    from gitml.workspace import Workspace

Metrics = dict[str, dict[str, Any]]


def read_paths(root: Path, specs: list[str]) -> list[bytes | None]:
    """The blobs `COMMIT:PATH` names, in order (None where absent), in one git process."""
    if not specs:
        return []
    try:
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=root, input="".join(s + "\n" for s in specs).encode(), capture_output=True,
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    out, pos, found = proc.stdout, 0, []
    for _ in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            found.append(out[pos : pos + size] if header[1] == b"blob" else None)
            pos += size + 1
        else:  # "<spec> missing" / "ambiguous"
            found.append(None)
    return found


class _Facts:
    """Paths, pointers and metrics at the commits versions point at."""

    def __init__(self, ws: Workspace, problems: list[str]) -> None:
        self.ws = ws
        self.root = ws.root
        self.problems = problems
        self._declared: dict[bytes, tuple[list[str], dict[str, str]]] = {}
        self._parsed: dict[tuple[str, bytes], dict[str, Any] | None] = {}
        self.pipelines: dict[str, bytes | None] = {}
        self.pointers: dict[tuple[str, str], bytes | None] = {}
        self.metrics: dict[str, Metrics | None] = {}
        self._contents: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._files: RevisionFiles | None = None

    def close(self) -> None:
        if self._files is not None:
            self._files.close()

    def revision_files(self) -> RevisionFiles:
        if self._files is None:
            from gitml.pipeline.revision_files import RevisionFiles

            self._files = RevisionFiles(self.ws)
        return self._files

    def declared(self, commit: str) -> tuple[list[str], dict[str, str]]:
        """(metrics files, {artifact: path}) of the gitml.yaml at `commit`."""
        data = self.pipelines.get(commit)
        if data is None:
            return [], {}
        if data not in self._declared:
            self._declared[data] = self._parse_pipeline(data, commit)
        return self._declared[data]

    def _parse_pipeline(self, data: bytes, commit: str) -> tuple[list[str], dict[str, str]]:
        where = f"{PIPELINE_FILE} at {commit[:7]}"
        artifacts: dict[str, str] = {}
        try:
            raw = parse(data, PIPELINE_FILE).get("artifacts") or {}
            for name, entry in raw.items() if isinstance(raw, dict) else ():
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    artifacts[str(name)] = entry["path"]
            files = metrics_files(parse_pipeline(data, self.root, rev=commit))
        except GitmlError as exc:
            self.problems.append(f"{where}: {exc.message}")
            return [], artifacts
        return files, artifacts

    def parsed(self, path: str, data: bytes) -> dict[str, Any] | None:
        key = (path, data)
        if key not in self._parsed:
            try:
                self._parsed[key] = flatten(parse(data, path))
            except GitmlError as exc:
                self.problems.append(exc.message)
                self._parsed[key] = None
        return self._parsed[key]

    def load(self, versions: list[tuple[Model, Version]]) -> dict[int, str | None]:
        """Read everything `versions` need; {id(version): path}."""
        commits = list(dict.fromkeys(v.commit for _, v in versions))
        for commit, data in zip(
            commits, read_paths(self.root, [f"{c}:{PIPELINE_FILE}" for c in commits]), strict=True
        ):
            self.pipelines[commit] = data
        paths: dict[int, str | None] = {}
        for model, version in versions:
            paths[id(version)] = version.path or self.declared(version.commit)[1].get(model.name)
        wanted = list(dict.fromkeys((v.commit, p) for _, v in versions if (p := paths[id(v)])))
        metric_specs = [(c, f) for c in commits for f in self.declared(c)[0]]
        specs = [f"{c}:{p}{POINTER_SUFFIX}" for c, p in wanted] + [
            f"{c}:{f}" for c, f in metric_specs
        ]
        blobs = read_paths(self.root, specs)
        self.pointers = dict(zip(wanted, blobs[: len(wanted)], strict=True))
        by_commit: dict[str, Metrics | None] = {c: {} for c in commits}
        for (commit, file), data in zip(metric_specs, blobs[len(wanted) :], strict=True):
            values = (
                self.parsed(file, data) if data is not None else self._cached_metrics(commit, file)
            )
            target = by_commit[commit]
            if values is not None and target is not None:
                target[file] = values
        self.metrics = by_commit
        return paths

    def _cached_metrics(self, commit: str, file: str) -> dict[str, Any] | None:
        """A metrics file that is not in git at `commit`: a cached stage out, perhaps."""
        try:
            data = self.revision_files().load(commit, file)
        except GitmlError as exc:
            self.problems.append(f"{file} at {commit[:7]}: {exc.message}")
            return None
        return None if data is None else flatten(data)

    def content(self, commit: str, path: str) -> dict[str, Any] | None:
        key = (commit, path)
        if key not in self._contents:
            self._contents[key] = self._content(commit, path)
        return self._contents[key]

    def _content(self, commit: str, path: str) -> dict[str, Any] | None:
        data = self.pointers.get((commit, path))
        where = f"{commit[:7]}:{path}{POINTER_SUFFIX}"
        from gitml.outputs import parse_revision_pointer  # lazy: pipeline modules behind it

        try:
            if data is not None:
                p = parse_revision_pointer(path + POINTER_SUFFIX, data, where).pointer
                return {"content_id": str(p.oid), "size": p.size}
            return self._stage_out(commit, path)
        except GitmlError as exc:
            self.problems.append(exc.message)
            return None

    def _stage_out(self, commit: str, path: str) -> dict[str, Any] | None:
        from gitml.outputs import revision_outputs

        files = self.revision_files()
        output = revision_outputs(self.root, commit, files.cat).get(path)
        if output is None:
            return None
        return {"content_id": str(output.pointer.oid), "size": output.pointer.size}


def _iso(timestamp: int) -> str | None:
    """As datetime's isoformat() in UTC, at a third of its cost."""
    if not timestamp:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(timestamp))


def show(ws: Workspace, registry: Registry, name: str | None = None) -> dict[str, Any]:
    """The `model show --json` document."""
    from gitml.registry.tags import semver_key

    problems = list(registry.problems)
    names = [name] if name else sorted(registry.models)
    ordered: list[tuple[Model, list[Version]]] = []
    for model_name in names:
        model = registry.models[model_name]
        registered = sorted(
            (v for v in model.versions.values() if v.registered),
            key=lambda v: semver_key(v.version),
            reverse=True,
        )
        ordered.append(
            (model, [*registered, *(v for v in model.versions.values() if not v.registered)])
        )
    facts = _Facts(ws, problems)
    try:
        paths = facts.load([(m, v) for m, versions in ordered for v in versions])
        models = []
        for model, versions in ordered:
            in_stage: dict[str, list[str]] = {}
            for stage, held in sorted(model.active.items()):
                for version_name in held:
                    in_stage.setdefault(version_name, []).append(stage)
            latest = model.latest()
            rows = []
            for v in versions:
                path = paths[id(v)]
                content = facts.content(v.commit, path) if path else None
                rows.append({
                    "version": v.version,
                    "registered": v.registered,
                    "commit": v.commit,
                    "date": _iso(v.date),
                    "author": v.author,
                    "tag": v.tag,
                    "path": path,
                    "content_id": content["content_id"] if content else None,
                    "size": content["size"] if content else None,
                    "stages": in_stage.get(v.version, []),
                    "metrics": facts.metrics.get(v.commit),
                })  # fmt: skip
            models.append({
                "name": model.name,
                "deprecated": model.deprecated,
                "latest": latest.version if latest else None,
                "stages": dict(sorted(model.stages.items())),
                "versions": rows,
            })  # fmt: skip
    finally:
        facts.close()
    return {"models": models, "problems": problems}
