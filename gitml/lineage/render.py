"""A lineage as an indented tree for people, and as a Mermaid graph GitHub renders."""

from __future__ import annotations

import json
from typing import Any

from gitml.lineage.trace import ADDED, GIT, STAGE_OUT, Lineage, Node, Produced


def _short(oid: str | None) -> str:
    if oid is None:
        return ""
    algorithm, _, hexdigest = oid.partition(":")
    return f"{algorithm}:{hexdigest[:12]}"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _describe(node: Node) -> str:
    bits = [node.path]
    if node.inside:
        bits.append(f"(in {node.inside})")
    if node.oid:
        bits.append(_short(node.oid))
    if node.git_blob:
        bits.append(f"git blob {node.git_blob[:12]}")
    if node.kind == ADDED:
        bits.append("[gitml add]")
    elif node.kind == GIT:
        bits.append("[git]")
    elif node.kind != STAGE_OUT:
        bits.append("[untracked]")
    return "  ".join(bits)


def text(lineage: Lineage) -> str:
    lines: list[str] = []
    shown: set[str] = set()

    def visit(node: Node, indent: str, branch: str, below: str) -> None:
        lines.append(f"{indent}{branch}{_describe(node)}")
        inner = indent + below
        if node.source is not None:
            s = node.source
            lines.append(
                f"{inner}   last changed in {s.commit[:12]} by {s.author} on {s.date}: {s.subject}"
            )
        produced = node.produced_by
        if produced is None:
            return
        if node.path in shown:
            lines.append(f"{inner}   (stage '{produced.stage}', shown above)")
            return
        shown.add(node.path)
        cmd = produced.cmd if isinstance(produced.cmd, str) else " && ".join(produced.cmd)
        state = "" if produced.recorded else " (never run: not in gitml.lock)"
        lines.append(f"{inner}   stage '{produced.stage}'{state}: {cmd}")
        if produced.run:
            r = produced.run
            lines.append(
                f"{inner}   run {r.get('started') or '?'} on {r.get('host') or '?'}, "
                f"{r.get('duration_s', '?')} s, gitml {r.get('gitml_version') or '?'}"
            )
        for file, values in produced.params.items():
            pairs = ", ".join(f"{k}={_value(v)}" for k, v in values.items())
            lines.append(f"{inner}   params {file}: {pairs}")
        for i, dep in enumerate(produced.deps):
            last = i == len(produced.deps) - 1
            visit(dep, inner + "   ", "└─ " if last else "├─ ", "   " if last else "│  ")

    visit(lineage.root, "", "", "")
    return "\n".join(lines)


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label: '#' first, as the other codes use it."""
    for raw, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, code)
    return " ".join(text.split())


def mermaid(lineage: Lineage) -> str:
    """A `graph LR` from original data to the output: files as boxes, stages as hexagons."""
    lines = ["graph LR"]
    ids: dict[str, str] = {}
    stages: dict[str, str] = {}
    edges: list[str] = []

    def file_id(node: Node) -> str:
        if node.path not in ids:
            ids[node.path] = f"f{len(ids)}"
            details = [_short(node.oid) or (f"git {node.git_blob[:12]}" if node.git_blob else "")]
            if node.kind == ADDED and node.source is not None:
                details.append(f"added in {node.source.commit[:8]}")
            label = "<br/>".join(_label(t) for t in [node.path, *details] if t)
            shape = ("[(", ")]") if node.kind == ADDED else ("[", "]")
            lines.append(f'  {ids[node.path]}{shape[0]}"{label}"{shape[1]}')
            produced = node.produced_by
            if produced is not None:
                edges.append(f"  {stage_id(produced)} --> {ids[node.path]}")
        return ids[node.path]

    def stage_id(produced: Produced) -> str:
        if produced.stage not in stages:
            stages[produced.stage] = f"s{len(stages)}"
            cmd = produced.cmd if isinstance(produced.cmd, str) else " && ".join(produced.cmd)
            label = f"{_label(produced.stage)}<br/>{_label(cmd)}"
            lines.append(f'  {stages[produced.stage]}{{{{"{label}"}}}}')
            for dep in produced.deps:
                edges.append(f"  {file_id(dep)} --> {stages[produced.stage]}")
        return stages[produced.stage]

    file_id(lineage.root)
    return "\n".join(lines + edges)
