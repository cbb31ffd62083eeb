"""The stage graph: edges from outs to deps, order, selection, and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitml.errors import PipelineError
from gitml.pipeline.dag import build_graph
from gitml.pipeline.model import OutSpec, Stage


def stage(name: str, deps: list[str] = (), outs: list[str] = ()) -> Stage:  # type: ignore[assignment]
    return Stage(name, ("x",), deps=tuple(deps), outs=tuple(OutSpec(o) for o in outs))


def test_edges_for_equal_nested_and_containing_paths() -> None:
    graph = build_graph(
        [
            stage("make_dir", outs=["data/dir"]),
            stage("make_file", outs=["data/file.csv"]),
            stage("uses_inside", deps=["data/dir/part.csv"]),  # dep inside an out
            stage("uses_parent", deps=["data"]),  # dep containing outs
            stage("uses_equal", deps=["data/file.csv"]),
            stage("unrelated", deps=["data2/x", "dat"]),
        ]
    )
    assert graph.parents["uses_inside"] == {"make_dir"}
    assert graph.parents["uses_parent"] == {"make_dir", "make_file"}
    assert graph.parents["uses_equal"] == {"make_file"}
    assert graph.parents["unrelated"] == set()
    assert graph.producer_of("data/dir/a/b") == "make_dir"
    assert graph.producer_of("data") is None


def test_order_upstream_downstream() -> None:
    graph = build_graph(
        [
            stage("d", deps=["b.txt", "c.txt"], outs=["d.txt"]),
            stage("b", deps=["a.txt"], outs=["b.txt"]),
            stage("c", deps=["a.txt"], outs=["c.txt"]),
            stage("a", outs=["a.txt"]),
            stage("lonely"),
        ]
    )
    assert graph.order() == ["a", "b", "c", "d", "lonely"]
    assert graph.upstream(["c"]) == {"a", "c"}
    assert graph.downstream(["b"]) == {"b", "d"}
    assert graph.order(["d", "a"]) == ["a", "d"]
    assert graph.edges() == [("b", "d"), ("c", "d"), ("a", "b"), ("a", "c")]


def test_cycle_names_the_stages() -> None:
    with pytest.raises(PipelineError, match=r"stages form a cycle: a -> b -> c -> a"):
        build_graph(
            [
                stage("a", deps=["c.txt"], outs=["a.txt"]),
                stage("b", deps=["a.txt"], outs=["b.txt"]),
                stage("c", deps=["b.txt"], outs=["c.txt"]),
                stage("free", outs=["f"]),
            ]
        )
    with pytest.raises(PipelineError, match=r"cycle: self -> self"):
        build_graph([stage("self", deps=["o/x"], outs=["o"])])


def test_clashing_outputs_name_both_stages() -> None:
    with pytest.raises(PipelineError, match=r"stages 'one' and 'two' both write output 'm.pkl'"):
        build_graph([stage("one", outs=["m.pkl"]), stage("two", outs=["m.pkl"])])
    with pytest.raises(
        PipelineError, match=r"'d/x' of stage 'two' is inside output 'd' of stage 'one'"
    ):
        build_graph([stage("one", outs=["d"]), stage("two", outs=["d/x"])])


@given(st.lists(st.lists(st.integers(0, 11), max_size=4), min_size=1, max_size=12), st.data())
def test_random_graphs_order_respects_every_edge(
    deps: list[list[int]], data: st.DataObject
) -> None:
    n = len(deps)
    perm = data.draw(st.permutations(range(n)))
    stages = [
        stage(f"s{i}", deps=[f"o{j}" for j in dep_list if j < i], outs=[f"o{i}"])
        for i, dep_list in enumerate(deps)
    ]
    stages = [stages[i] for i in perm]  # declaration order is arbitrary
    graph = build_graph(stages)
    order = graph.order()
    assert sorted(order) == sorted(s.name for s in stages)
    position = {name: i for i, name in enumerate(order)}
    for child, parents in graph.parents.items():
        for parent in parents:
            assert position[parent] < position[child]
    # Adding a back edge from the first stage in order to the last makes a cycle.
    if len(order) > 1 and graph.upstream([order[-1]]) & {order[0]}:
        first = next(s for s in stages if s.name == order[0])
        looped = Stage(first.name, ("x",), deps=(*first.deps, f"o{order[-1][1:]}"), outs=first.outs)
        with pytest.raises(PipelineError, match="cycle"):
            build_graph([looped if s.name == first.name else s for s in stages])
