"""Distributions of numeric columns as profiles keep them.

`Sketch`: a mergeable quantile sketch, the values at fixed cumulative levels (every
1/1000, plus extra levels in both tails, where drift of skewed data shows). It is built
per batch (pyarrow's t-digest gives the batch's quantiles) and merged batch after batch
by mixing the two distribution functions weighted by their counts. Between its points
the distribution function is linear, and right-continuous at ties.

`Counts`: the exact distribution of a column with few distinct values (integers, codes):
every value with its count. Statistics from two `Counts` are exact.

Pure Python: either is ~1000 numbers, whatever the row count.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass


def _levels() -> list[float]:
    tails = [m * 10.0**-k for k in range(3, 7) for m in (1, 2, 5)]
    grid = {i / 1000 for i in range(1001)} | set(tails) | {1 - t for t in tails}
    return sorted(grid)


LEVELS = _levels()


@dataclass
class Sketch:
    quantiles: list[float]  # non-decreasing, at LEVELS
    count: int

    def cdf(self, x: float) -> float:
        """P(value <= x)."""
        q = self.quantiles
        if not q or x < q[0]:
            return 0.0
        i = bisect_right(q, x)
        if i >= len(q):
            return 1.0
        low, high = q[i - 1], q[i]
        frac = 0.0 if high == low else (x - low) / (high - low)
        return LEVELS[i - 1] + (LEVELS[i] - LEVELS[i - 1]) * frac

    def quantile(self, p: float) -> float:
        q = self.quantiles
        i = bisect_right(LEVELS, p)
        if i >= len(q):
            return q[-1]
        l0, l1 = LEVELS[i - 1], LEVELS[i]
        return q[i - 1] + (q[i] - q[i - 1]) * ((p - l0) / (l1 - l0))

    def points(self) -> list[float]:
        return self.quantiles


def from_cdf(points: list[float], cdf: list[float], count: int) -> Sketch:
    """The sketch of a distribution given as its function at sorted `points`."""
    out = []
    n = len(points)
    i = 0  # bisect_left(cdf, p - 1e-12), walked forward: LEVELS and cdf both ascend
    for p in LEVELS:
        target = p - 1e-12
        while i < n and cdf[i] < target:
            i += 1
        if i <= 0:
            out.append(points[0])
        elif i >= n:
            out.append(points[-1])
        else:
            f0, f1 = cdf[i - 1], cdf[i]
            frac = 0.0 if f1 == f0 else (p - f0) / (f1 - f0)
            out.append(points[i - 1] + (points[i] - points[i - 1]) * frac)
    return Sketch(out, count)


def _cdf_sorted(sketch: Sketch, xs: list[float]) -> list[float]:
    """[sketch.cdf(x) for x in xs] for ascending `xs`, in one forward walk."""
    q = sketch.quantiles
    n = len(q)
    out = []
    i = 0  # bisect_right(q, x)
    for x in xs:
        while i < n and q[i] <= x:
            i += 1
        if i == 0:
            out.append(0.0)
        elif i >= n:
            out.append(1.0)
        else:
            low, high = q[i - 1], q[i]
            frac = 0.0 if high == low else (x - low) / (high - low)
            out.append(LEVELS[i - 1] + (LEVELS[i] - LEVELS[i - 1]) * frac)
    return out


def merge(a: Sketch | None, b: Sketch) -> Sketch:
    if a is None or a.count == 0:
        return b
    if b.count == 0:
        return a
    points = sorted(set(a.quantiles) | set(b.quantiles))
    total = a.count + b.count
    cdf = [
        (a.count * fa + b.count * fb) / total
        for fa, fb in zip(_cdf_sorted(a, points), _cdf_sorted(b, points), strict=True)
    ]
    return from_cdf(points, cdf, total)


class Counts:
    """An exact distribution: sorted distinct values and how often each occurs."""

    def __init__(self, counts: dict[float, int]) -> None:
        self.values = sorted(counts)
        self.cumulative: list[int] = []
        running = 0
        for v in self.values:
            running += counts[v]
            self.cumulative.append(running)
        self.count = running

    def cdf(self, x: float) -> float:
        i = bisect_right(self.values, x)
        return self.cumulative[i - 1] / self.count if i else 0.0

    def _order_statistic(self, k: int) -> float:
        return self.values[bisect_right(self.cumulative, k)]

    def quantile(self, p: float) -> float:
        """As numpy's default (linear) quantile of the rows."""
        h = (self.count - 1) * p
        k = int(h)
        low = self._order_statistic(k)
        if k + 1 >= self.count:
            return low
        return low + (h - k) * (self._order_statistic(k + 1) - low)

    def points(self) -> list[float]:
        return self.values


Distribution = Sketch | Counts


def wasserstein(a: Distribution, b: Distribution) -> float:
    """W1: the integral of |F_a - F_b| over values (exact between two Counts), else of
    |Q_a - Q_b| over levels (trapezoids on LEVELS)."""
    if isinstance(a, Counts) and isinstance(b, Counts):
        xs = sorted(set(a.values) | set(b.values))
        return sum(abs(a.cdf(x) - b.cdf(x)) * (nxt - x) for x, nxt in itertools.pairwise(xs))
    total = 0.0
    previous = abs(a.quantile(0.0) - b.quantile(0.0))
    for l0, l1 in itertools.pairwise(LEVELS):
        current = abs(a.quantile(l1) - b.quantile(l1))
        total += (l1 - l0) * (previous + current) / 2
        previous = current
    return total
