#!/usr/bin/env python3
"""Fail when modules of gitml import each other in a cycle (imports inside functions count).

Uses grimp (installed with import-linter, the test extra). Prints each cycle found as a
chain of modules; exit status 1 when there is any.
"""

from __future__ import annotations

import sys

import grimp


def cycles(package: str = "gitml") -> list[list[str]]:
    """One cycle per group of modules that import each other, directly or not."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    found: list[list[str]] = []
    for component in _components(modules, edges):
        if len(component) > 1:
            found.append(_one_cycle(component, edges))
    return found


def _components(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            result.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(nodes)))
    for start in nodes:
        if start not in index:
            visit(start)
    return result


def _one_cycle(component: list[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through the component's first module, for the message."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in edges[node]:
            if nxt == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [*reversed(chain), start]
            if nxt in members and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return component


def main() -> int:
    found = cycles()
    for chain in found:
        print("import cycle: " + " -> ".join(chain), file=sys.stderr)
    if not found:
        print("no import cycles among gitml modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
