"""The stage graph: stage B depends on stage A when one of B's deps is, is inside, or
contains one of A's outs. Pure: no filesystem access."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from gitml.errors import PipelineError
from gitml.pipeline.model import Stage


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@dataclass
class Graph:
    stages: dict[str, Stage]  # in declaration order
    parents: dict[str, set[str]]  # stage -> stages it needs
    children: dict[str, set[str]]  # stage -> stages that need it
    producers: dict[str, str]  # out path -> stage

    def producer_of(self, path: str) -> str | None:
        """The stage whose out is `path` or contains it."""
        for candidate in (path, *reversed(_ancestors(path))):
            if candidate in self.producers:
                return self.producers[candidate]
        return None

    def producers_inside(self, path: str) -> set[str]:
        prefix = path + "/"
        return {s for p, s in self.producers.items() if p.startswith(prefix)}

    def order(self, names: Iterable[str] | None = None) -> list[str]:
        """Topological order of `names` (default: all), ties in declaration order."""
        if names is not None:
            wanted = set(names)
            return [name for name in self.order() if name in wanted]
        rank = {name: i for i, name in enumerate(self.stages)}
        waiting = {n: len(self.parents[n]) for n in self.stages}
        ready = [(rank[n], n) for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        result = []
        while ready:
            _, name = heapq.heappop(ready)
            result.append(name)
            for child in self.children[name]:
                if child in waiting:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        heapq.heappush(ready, (rank[child], child))
        return result

    def upstream(self, names: Iterable[str]) -> set[str]:
        return self._closure(names, self.parents)

    def downstream(self, names: Iterable[str]) -> set[str]:
        return self._closure(names, self.children)

    @staticmethod
    def _closure(names: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
        seen: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(edges[name])
        return seen

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs in a stable order."""
        rank = {name: i for i, name in enumerate(self.stages)}
        return sorted(
            ((p, c) for c, ps in self.parents.items() for p in ps),
            key=lambda e: (rank[e[0]], rank[e[1]]),
        )


def build_graph(stages: Iterable[Stage], file: str = "gitml.yaml") -> Graph:
    by_name = {s.name: s for s in stages}
    producers: dict[str, str] = {}
    for stage in by_name.values():
        for out in stage.outs:
            other = producers.get(out.path)
            if other is not None and other != stage.name:
                raise PipelineError(
                    f"{file}: stages '{other}' and '{stage.name}' both write output '{out.path}'"
                )
            producers[out.path] = stage.name
    # Outs nested inside another stage's out are two stages writing the same files.
    for path, name in producers.items():
        for ancestor in _ancestors(path):
            other = producers.get(ancestor)
            if other is not None and other != name:
                raise PipelineError(
                    f"{file}: output '{path}' of stage '{name}' is inside output "
                    f"'{ancestor}' of stage '{other}'"
                )
    # Every ancestor directory of an out -> the stages with outs below it.
    below: dict[str, set[str]] = {}
    for path, name in producers.items():
        for ancestor in _ancestors(path):
            below.setdefault(ancestor, set()).add(name)
    parents: dict[str, set[str]] = {n: set() for n in by_name}
    children: dict[str, set[str]] = {n: set() for n in by_name}
    for stage in by_name.values():
        for dep in stage.deps:
            found = set(below.get(dep, ()))
            for candidate in (dep, *_ancestors(dep)):
                if candidate in producers:
                    found.add(producers[candidate])
            for producer in found:
                parents[stage.name].add(producer)
                children[producer].add(stage.name)
    graph = Graph(by_name, parents, children, producers)
    _check_acyclic(graph, file)
    return graph


def _check_acyclic(graph: Graph, file: str) -> None:
    if len(graph.order()) == len(graph.stages):
        return
    # Find one cycle to name: walk parents from any stage left over until one repeats.
    ordered = set(graph.order())
    left = [n for n in graph.stages if n not in ordered]
    path: list[str] = []
    position: dict[str, int] = {}
    node = left[0]
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(
            (p for p in graph.parents[node] if p not in ordered),
            key=list(graph.stages).index,
        )
    cycle = [*path[position[node] :], node]
    cycle.reverse()
    raise PipelineError(f"{file}: stages form a cycle: {' -> '.join(cycle)}")
