"""A mergeable quantile sketch: values at fixed cumulative levels 0, 1/K, ..., 1.

Built per batch (pyarrow's t-digest gives the batch's quantiles) and merged batch after
batch by mixing the two distribution functions weighted by their counts. Between its
points the distribution function is linear, and right-continuous at ties (so discrete
data keeps its steps). Pure Python: a sketch is ~1000 numbers, whatever the row count.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

LEVELS = 1000  # K: the sketch holds K + 1 quantiles


def levels(k: int = LEVELS) -> list[float]:
    return [i / k for i in range(k + 1)]


@dataclass
class Sketch:
    quantiles: list[float]  # non-decreasing, at levels(len - 1)
    count: int

    def cdf(self, x: float) -> float:
        """P(value <= x)."""
        q = self.quantiles
        if not q or x < q[0]:
            return 0.0
        i = bisect_right(q, x)
        if i >= len(q):
            return 1.0
        step = 1.0 / (len(q) - 1)
        low, high = q[i - 1], q[i]
        frac = 0.0 if high == low else (x - low) / (high - low)
        return (i - 1 + frac) * step

    def quantile(self, p: float) -> float:
        q = self.quantiles
        position = p * (len(q) - 1)
        i = int(position)
        if i >= len(q) - 1:
            return q[-1]
        return q[i] + (q[i + 1] - q[i]) * (position - i)


def from_cdf(points: list[float], cdf: list[float], count: int, k: int = LEVELS) -> Sketch:
    """The sketch of a distribution given as its function at sorted `points`."""
    out = []
    for p in levels(k):
        i = bisect_left(cdf, p - 1e-12)
        if i <= 0:
            out.append(points[0])
        elif i >= len(points):
            out.append(points[-1])
        else:
            f0, f1 = cdf[i - 1], cdf[i]
            frac = 0.0 if f1 == f0 else (p - f0) / (f1 - f0)
            out.append(points[i - 1] + (points[i] - points[i - 1]) * frac)
    return Sketch(out, count)


def merge(a: Sketch | None, b: Sketch) -> Sketch:
    if a is None or a.count == 0:
        return b
    if b.count == 0:
        return a
    points = sorted(set(a.quantiles) | set(b.quantiles))
    total = a.count + b.count
    cdf = [(a.count * a.cdf(x) + b.count * b.cdf(x)) / total for x in points]
    return from_cdf(points, cdf, total, len(a.quantiles) - 1)
