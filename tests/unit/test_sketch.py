"""Merging quantile sketches: the forward walks give exactly what the distribution
functions say (the mixture of both, weighted by counts, read back at LEVELS)."""

from __future__ import annotations

import random
from bisect import bisect_left

from gitml.tabular.sketch import LEVELS, Sketch, merge


def _by_definition(a: Sketch, b: Sketch) -> list[float]:
    points = sorted(set(a.quantiles) | set(b.quantiles))
    total = a.count + b.count
    cdf = [(a.count * a.cdf(x) + b.count * b.cdf(x)) / total for x in points]
    out = []
    for p in LEVELS:
        i = bisect_left(cdf, p - 1e-12)
        if i <= 0:
            out.append(points[0])
        elif i >= len(points):
            out.append(points[-1])
        else:
            f0, f1 = cdf[i - 1], cdf[i]
            frac = 0.0 if f1 == f0 else (p - f0) / (f1 - f0)
            out.append(points[i - 1] + (points[i] - points[i - 1]) * frac)
    return out


def test_merge_is_the_count_weighted_mixture() -> None:
    rng = random.Random(7)
    for _ in range(50):
        # ties (rounded values) and disjoint ranges both occur
        qa = sorted(round(rng.gauss(0, 1), rng.choice([1, 6])) for _ in LEVELS)
        qb = sorted(round(rng.gauss(rng.choice([0, 5]), 2), rng.choice([1, 6])) for _ in LEVELS)
        a, b = Sketch(qa, rng.randint(1, 10**6)), Sketch(qb, rng.randint(1, 10**6))
        merged = merge(a, b)
        assert merged.count == a.count + b.count
        assert merged.quantiles == _by_definition(a, b)


def test_merge_with_an_empty_side_is_the_other() -> None:
    a = Sketch([float(i) for i in range(len(LEVELS))], 10)
    assert merge(None, a) is a
    assert merge(a, Sketch([], 0)) is a
