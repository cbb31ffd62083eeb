"""The plots page in a real browser (headless Chromium): every chart lays out with its
marks and axis labels, every image decodes, and the console stays free of errors (a
network fetch would be a Content-Security-Policy error). A screenshot is saved under
.ci/out/ for people to look at."""

from __future__ import annotations

from pathlib import Path

from tests.browser import chromium_or_skip, render
from tests.conftest import run_gitml
from tests.ml_repo import build, retrain

EXPECTED = {
    "loss.csv": ["step", "loss"],
    "plots/confusion.csv": ["actual", "predicted"],
    "plots/importance.json": ["feature", "weight"],
    "plots/scatter.yaml": ["actual", "predicted"],
    "plots/roc.tsv": ["false positive rate", "true positive rate"],
}


def test_plots_page_draws_every_chart_in_chromium(tmp_path: Path) -> None:
    chromium_or_skip()
    root = build(tmp_path / "repo", gallery=True)
    retrain(root, 0.2)
    retrain(root, 0.3)
    run_gitml("plots", "show", "--rev", "HEAD~2", "--rev", "HEAD~1", "--rev", "HEAD", cwd=root)
    rendered = render(root / "gitml_plots" / "index.html", "plots-show")
    assert rendered.errors == []
    by_path = {s["path"]: s for s in rendered.sections}
    assert sorted(by_path) == sorted([*EXPECTED, "plots/sample.png"])
    for path, labels in EXPECTED.items():
        section = by_path[path]
        assert len(section["svgs"]) == 1, path
        (chart,) = section["svgs"]
        assert chart["w"] > 300 and chart["h"] > 100, (path, chart)
        assert chart["marks"] >= 3, (path, chart)  # a line, points, bars or cells per revision
        assert section["labels"][:1] == labels[:1] and labels[1] in section["labels"], path
    assert by_path["plots/sample.png"]["imgs"] == [{"ok": True}] * 3
    assert rendered.screenshot is not None and rendered.screenshot.stat().st_size > 10_000


def test_report_page_draws_in_chromium(tmp_path: Path) -> None:
    chromium_or_skip()
    root = build(tmp_path / "repo")
    retrain(root, 0.2)
    run_gitml("report", cwd=root)
    rendered = render(root / "gitml_report" / "index.html", "report")
    assert rendered.errors == []
    assert [s["path"] for s in rendered.sections] == ["metrics.json:auc", "metrics.json:loss"]
    for section in rendered.sections:
        (chart,) = section["svgs"]
        assert chart["w"] > 300 and chart["h"] > 100 and chart["marks"] == 1
        assert section["labels"] == ["commit", section["path"]]
