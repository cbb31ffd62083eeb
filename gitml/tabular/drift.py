"""Drift between two profiles, column by column (docs/data-checks.md).

Numeric columns: PSI over ten bins cut at the reference's deciles, the Kolmogorov-Smirnov
statistic, the Wasserstein-1 distance divided by the reference's standard deviation, and
both means and deviations. Categorical columns: PSI and the Jensen-Shannon distance over
the categories, new and vanished categories. Every column: the null rates. All of it is
computed from profiles (quantile sketches and category counts), never from rows.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from gitml.errors import UsageError
from gitml.tabular.profile import ColumnProfile, Profile
from gitml.tabular.sketch import Distribution, wasserstein

PSI_BINS = 10
EPSILON = 1e-4  # floor of a bin's share, so an empty bin gives a large but finite PSI

# A column drifted when a statistic reaches its threshold; None: reported, never decisive.
DEFAULT_THRESHOLDS: dict[str, float | None] = {
    "psi": 0.2,
    "null_rate": 0.1,
    "ks": None,
    "wasserstein": None,
    "jensen_shannon": None,
}


@dataclass
class ColumnDrift:
    column: str
    kind: str
    stats: dict[str, Any]
    exceeded: list[str]  # the thresholds reached
    thresholds: dict[str, float | None]

    @property
    def drifted(self) -> bool:
        return bool(self.exceeded)

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "drifted": self.drifted,
            "exceeded": self.exceeded,
            **self.stats,
            "thresholds": self.thresholds,
        }


@dataclass
class DriftReport:
    reference: str
    current: str
    reference_rows: int
    current_rows: int
    columns: list[ColumnDrift]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[dict[str, str]] = field(default_factory=list)
    reference_profile: str = "built"  # "stored" when read from the cache

    @property
    def drifted(self) -> list[str]:
        changed = [c.column for c in self.columns if c.drifted]
        return changed + self.removed + [r["column"] for r in self.retyped]

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "current": self.current,
            "rows": {"reference": self.reference_rows, "current": self.current_rows},
            "reference_profile": self.reference_profile,
            "drifted": self.drifted,
            "passed": not self.drifted,
            "added": self.added,
            "removed": self.removed,
            "retyped": self.retyped,
            "columns": [c.to_json() for c in self.columns],
        }


def parse_thresholds(items: list[str]) -> dict[str, dict[str, float | None]]:
    """`psi=0.25` (every column) or `age:psi=0.3` (one column) -> {column or "": {stat: v}};
    a value of `off` makes that statistic never decisive."""
    out: dict[str, dict[str, float | None]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        column, _, stat = key.rpartition(":")
        if not sep or stat not in DEFAULT_THRESHOLDS:
            raise UsageError(
                f"threshold {item!r}: expected [COLUMN:]STAT=VALUE with STAT one of "
                + ", ".join(DEFAULT_THRESHOLDS)
            )
        out.setdefault(column, {})[stat] = _threshold_value(value, item)
    return out


def _threshold_value(value: Any, item: str) -> float | None:
    if value in (None, "off", "none"):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"threshold {item!r}: {value!r} is not a number") from None
    if number < 0 or math.isnan(number):
        raise UsageError(f"threshold {item!r}: must be >= 0")
    return number


def thresholds_for(
    column: str, overrides: dict[str, dict[str, float | None]]
) -> dict[str, float | None]:
    merged = dict(DEFAULT_THRESHOLDS)
    merged.update(overrides.get("", {}))
    merged.update(overrides.get(column, {}))
    return merged


# Statistics ------------------------------------------------------------------------------


def psi(reference: list[float], current: list[float]) -> float:
    """Population stability index of two lists of bin shares."""
    total = 0.0
    for r, c in zip(reference, current, strict=True):
        r, c = max(r, EPSILON), max(c, EPSILON)
        total += (c - r) * math.log(c / r)
    return total


def jensen_shannon(p: list[float], q: list[float]) -> float:
    """Jensen-Shannon distance (natural log; as scipy.spatial.distance.jensenshannon)."""
    sp, sq = sum(p), sum(q)
    p = [v / sp for v in p]
    q = [v / sq for v in q]
    divergence = 0.0
    for a, b in zip(p, q, strict=True):
        m = (a + b) / 2
        if a > 0:
            divergence += a * math.log(a / m) / 2
        if b > 0:
            divergence += b * math.log(b / m) / 2
    return math.sqrt(max(divergence, 0.0))


def numeric_bin_shares(ref: Distribution, cur: Distribution) -> tuple[list[float], list[float]]:
    """Shares of each side in the reference's decile bins (ties merge bins)."""
    edges = sorted({ref.quantile(i / PSI_BINS) for i in range(1, PSI_BINS)})
    ref_cdf = [0.0] + [ref.cdf(e) for e in edges] + [1.0]
    cur_cdf = [0.0] + [cur.cdf(e) for e in edges] + [1.0]
    return (
        [b - a for a, b in itertools.pairwise(ref_cdf)],
        [b - a for a, b in itertools.pairwise(cur_cdf)],
    )


def ks_statistic(ref: Distribution, cur: Distribution) -> float:
    points = sorted(set(ref.points()) | set(cur.points()))
    return max((abs(ref.cdf(x) - cur.cdf(x)) for x in points), default=0.0)


def _null_rate(c: ColumnProfile) -> float:
    return c.nulls / c.rows if c.rows else 0.0


def _numeric(ref: ColumnProfile, cur: ColumnProfile) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "mean": {"reference": ref.mean, "current": cur.mean},
        "std": {"reference": ref.std, "current": cur.std},
    }
    ref_dist, cur_dist = ref.distribution(), cur.distribution()
    if ref_dist is None or cur_dist is None:
        return {**stats, "psi": None, "ks": None, "wasserstein": None}
    ref_shares, cur_shares = numeric_bin_shares(ref_dist, cur_dist)
    distance = wasserstein(ref_dist, cur_dist)
    spread = ref.std or 0.0
    return {
        **stats,
        "psi": round(psi(ref_shares, cur_shares), 6),
        "ks": round(ks_statistic(ref_dist, cur_dist), 6),
        "wasserstein": round(distance / spread if spread > 0 else distance, 6),
    }


def _categorical(ref: ColumnProfile, cur: ColumnProfile) -> dict[str, Any]:
    if ref.high_cardinality or cur.high_cardinality:
        return {
            "psi": None,
            "jensen_shannon": None,
            "new": [],
            "vanished": [],
            "note": "too many distinct values (an identifier?): only null rates compared",
        }
    # The reference's categories are the bins (as its deciles are for numbers); every
    # other value, on either side, falls in one more bin.
    keys = list(ref.top)
    ref_counts = [ref.top[k] for k in keys] + [ref.other]
    cur_known = [cur.top.get(k, 0) for k in keys]
    cur_counts = [*cur_known, max(cur.count - sum(cur_known), 0)]
    ref_total, cur_total = sum(ref_counts) or 1, sum(cur_counts) or 1
    ref_shares = [v / ref_total for v in ref_counts]
    cur_shares = [v / cur_total for v in cur_counts]
    from gitml.tabular.validate import _json_value

    complete_ref, complete_cur = ref.other == 0, cur.other == 0
    new = [k for k in cur.top if k not in ref.top] if complete_ref else []
    vanished = [k for k in keys if k not in cur.top] if complete_cur else []
    return {
        "psi": round(psi(ref_shares, cur_shares), 6),
        "jensen_shannon": round(jensen_shannon(ref_shares, cur_shares), 6)
        if sum(ref_counts) and sum(cur_counts) else None,
        "new": [_json_value(k) for k in new[:20]],
        "new_count": len(new),
        "vanished": [_json_value(k) for k in vanished[:20]],
        "vanished_count": len(vanished),
    }  # fmt: skip


def compare(
    reference: Profile,
    current: Profile,
    overrides: dict[str, dict[str, float | None]] | None = None,
    *,
    reference_label: str = "",
    current_label: str = "",
) -> DriftReport:
    overrides = overrides or {}
    report = DriftReport(reference_label, current_label, reference.rows, current.rows, [])
    report.added = [n for n in current.columns if n not in reference.columns]
    report.removed = [n for n in reference.columns if n not in current.columns]
    for name, ref in reference.columns.items():
        cur = current.columns.get(name)
        if cur is None:
            continue
        if ref.kind != cur.kind or ref.type != cur.type:
            report.retyped.append({"column": name, "reference": ref.type, "current": cur.type})
            if ref.kind != cur.kind:
                continue
        stats = _numeric(ref, cur) if ref.kind == "numeric" else _categorical(ref, cur)
        rates = {"reference": round(_null_rate(ref), 6), "current": round(_null_rate(cur), 6)}
        stats["null_rate"] = rates
        limits = thresholds_for(name, overrides)
        exceeded = []
        for stat, limit in limits.items():
            if limit is None:
                continue
            value = (
                abs(rates["current"] - rates["reference"])
                if stat == "null_rate"
                else stats.get(stat)
            )
            if value is not None and value >= limit:
                exceeded.append(stat)
        report.columns.append(ColumnDrift(name, ref.kind, stats, exceeded, limits))
    return report
