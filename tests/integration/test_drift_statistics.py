"""gitml drift's statistics, computed from profiles (quantile sketches and category
counts, never the rows), against exact reference computations with numpy and scipy.

Tolerances: KS within 0.01 (the sketch keeps ~1,000 quantiles; per-batch t-digests add
a little); PSI within 0.01 + 5 %; Wasserstein (normalised by the reference's standard
deviation) within 0.01 + 3 %; Jensen-Shannon and categorical PSI to 1e-6 (counts are
exact; reports round to 6 digits). Numeric columns with at most 1,000 distinct values
keep exact counts, so the "integers" case is exact too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from gitml.tabular.drift import EPSILON, compare
from gitml.tabular.profile import Profile, build_profile
from gitml.tabular.read import open_local


def exact_psi(ref: np.ndarray, cur: np.ndarray) -> float:
    """Ten bins cut at the reference's deciles (numpy's default linear quantiles)."""
    edges = np.unique(np.quantile(ref, [i / 10 for i in range(1, 10)]))
    ref_cdf = np.concatenate([[0.0], [np.mean(ref <= e) for e in edges], [1.0]])
    cur_cdf = np.concatenate([[0.0], [np.mean(cur <= e) for e in edges], [1.0]])
    r = np.maximum(np.diff(ref_cdf), EPSILON)
    c = np.maximum(np.diff(cur_cdf), EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def profile(tmp_path: Path, name: str, columns: dict[str, object]) -> Profile:
    path = tmp_path / f"{name}.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=100_000)
    return build_profile(open_local(path))


CASES = {
    "same": (lambda g: g.normal(0, 1, 300_000), lambda g: g.normal(0, 1, 300_000)),
    "shifted": (lambda g: g.normal(0, 1, 300_000), lambda g: g.normal(0.3, 1.2, 250_000)),
    "skewed": (lambda g: g.lognormal(0, 1, 300_000), lambda g: g.lognormal(0.2, 1, 300_000)),
    "integers": (lambda g: g.integers(0, 20, 300_000), lambda g: g.integers(2, 22, 300_000)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_numeric_statistics_match_scipy(tmp_path: Path, case: str) -> None:
    make_ref, make_cur = CASES[case]
    g = np.random.default_rng(7)
    ref, cur = make_ref(g), make_cur(g)
    report = compare(profile(tmp_path, "ref", {"x": ref}), profile(tmp_path, "cur", {"x": cur}))
    stats = report.columns[0].stats

    assert stats["ks"] == pytest.approx(ks_2samp(ref, cur).statistic, abs=0.01)
    expected_psi = exact_psi(ref, cur)
    assert stats["psi"] == pytest.approx(expected_psi, abs=0.01 + 0.05 * expected_psi)
    expected_w = wasserstein_distance(ref, cur) / np.std(ref)
    assert stats["wasserstein"] == pytest.approx(expected_w, abs=0.01 + 0.03 * expected_w)
    assert stats["mean"]["current"] == pytest.approx(float(np.mean(cur)), rel=1e-9)
    assert stats["std"]["reference"] == pytest.approx(float(np.std(ref)), rel=1e-9)
    assert report.columns[0].drifted == (stats["psi"] >= 0.2)


def test_categorical_psi_and_jensen_shannon_are_exact(tmp_path: Path) -> None:
    g = np.random.default_rng(3)
    ref = g.choice(["a", "b", "c", "d"], 100_000, p=[0.4, 0.3, 0.2, 0.1])
    cur = g.choice(["a", "b", "c", "e"], 80_000, p=[0.25, 0.25, 0.25, 0.25])
    report = compare(
        profile(tmp_path, "ref", {"k": ref.tolist()}), profile(tmp_path, "cur", {"k": cur.tolist()})
    )
    column = report.columns[0]
    keys = ["a", "b", "c", "d", "e"]
    p = np.array([np.sum(ref == k) for k in keys], dtype=float) / len(ref)
    q = np.array([np.sum(cur == k) for k in keys], dtype=float) / len(cur)
    assert column.stats["jensen_shannon"] == pytest.approx(jensenshannon(p, q), abs=1e-6)
    # bins: the reference's categories, plus one for everything else ("e" here)
    r, c = np.maximum(p, EPSILON), np.maximum(q, EPSILON)
    assert column.stats["psi"] == pytest.approx(float(np.sum((c - r) * np.log(c / r))), abs=1e-6)
    assert column.stats["new"] == ["e"] and column.stats["vanished"] == ["d"]
    assert column.drifted


def test_null_rates_and_schema_changes(tmp_path: Path) -> None:
    ref = profile(
        tmp_path, "ref", {"a": [1.0, 2.0, None, 4.0] * 250, "gone": [1] * 1000, "t": [1] * 1000}
    )
    cur = profile(
        tmp_path, "cur", {"a": [1.0, None, None, 4.0] * 250, "new": [1] * 1000, "t": ["x"] * 1000}
    )
    report = compare(ref, cur)
    a = report.columns[0]
    assert a.stats["null_rate"] == {"reference": 0.25, "current": 0.5}
    assert "null_rate" in a.exceeded
    assert report.added == ["new"] and report.removed == ["gone"]
    assert report.retyped == [{"column": "t", "reference": "int64", "current": "string"}]
    assert set(report.drifted) == {"a", "gone", "t"}
    assert math.isfinite(report.columns[0].stats["psi"])
