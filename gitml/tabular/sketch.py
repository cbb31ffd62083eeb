"""Distributions of numeric columns as profiles keep them.

`Sketch`: a mergeable quantile sketch, the values at fixed cumulative levels (every
1/1000, plus extra levels in both tails, where drift of skewed data shows). It is built
per batch (the batch's exact quantiles) and merged batch after batch
by mixing the two distribution functions weighted by their counts. Between its points
the distribution function is linear, and right-continuous at ties.

`Counts`: the exact distribution of a column with few distinct values (integers, codes):
every value with its count. Statistics from two `Counts` are exact.

Either is ~1000 numbers, whatever the row count. A batch's sketch is exact (numpy sorts
it: 1 ms for 128k values, where pyarrow's t-digest took 14 ms) and merges are vectorized;
numpy is imported only here, when a profile is built.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any


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


def _levels_array() -> Any:
    import numpy as np

    global _LEVELS_ARRAY
    if _LEVELS_ARRAY is None:
        _LEVELS_ARRAY = np.array(LEVELS)
    return _LEVELS_ARRAY


_LEVELS_ARRAY: Any = None


def of_values(values: Any) -> Sketch:
    """The exact sketch of a batch of numbers (a float64 numpy array without NaN): its
    quantiles at LEVELS as numpy's default (linear) quantile computes them."""
    import numpy as np

    ordered = np.sort(values)
    n = len(ordered)
    position = (n - 1) * _levels_array()
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    below, above = ordered[low], ordered[high]
    with np.errstate(invalid="ignore"):  # inf - inf where both sides are infinite
        between = below + (position - low) * (above - below)
    quantiles = np.where(above == below, below, between)
    return Sketch(np.maximum.accumulate(quantiles).tolist(), n)


def from_cdf(points: Any, cdf: Any, count: int) -> Sketch:
    """The sketch of a distribution given as its function at sorted `points` (arrays)."""
    import numpy as np

    levels = _levels_array()
    n = len(points)
    i = np.searchsorted(cdf, levels - 1e-12, side="left")
    j = np.clip(i, 1, max(n - 1, 1))
    f0, f1 = cdf[j - 1], cdf[j % n]
    step = f1 - f0
    frac = np.divide(levels - f0, step, out=np.zeros_like(levels), where=step != 0)
    inside = points[j - 1] + (points[j % n] - points[j - 1]) * frac
    out = np.where(i <= 0, points[0], np.where(i >= n, points[-1], inside))
    return Sketch(out.tolist(), count)


def _cdf_sorted(sketch: Sketch, xs: Any) -> Any:
    """sketch.cdf(x) for every x of the array `xs`, vectorized."""
    import numpy as np

    q = np.asarray(sketch.quantiles)
    levels = _levels_array()
    n = len(q)
    i = np.searchsorted(q, xs, side="right")
    j = np.clip(i, 1, max(n - 1, 1))
    low, high = q[j - 1], q[j % n]
    span = high - low
    frac = np.divide(xs - low, span, out=np.zeros_like(xs), where=span != 0)
    inside = levels[j - 1] + (levels[j % n] - levels[j - 1]) * frac
    return np.where(i == 0, 0.0, np.where(i >= n, 1.0, inside))


def merge(a: Sketch | None, b: Sketch) -> Sketch:
    """The count-weighted mixture of two sketches' distribution functions, read back at
    LEVELS."""
    import numpy as np

    if a is None or a.count == 0:
        return b
    if b.count == 0:
        return a
    points = np.union1d(np.asarray(a.quantiles), np.asarray(b.quantiles))
    total = a.count + b.count
    cdf = (a.count * _cdf_sorted(a, points) + b.count * _cdf_sorted(b, points)) / total
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
