"""`gitml plots show|diff`: the declared plots at revisions, as Vega-Lite specs (--json)
and as one offline HTML page of SVG charts; bad plot files fail with one line."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import git, run_gitml, write
from tests.ml_repo import build, retrain

PLOTS = [
    "loss.csv",
    "plots/confusion.csv",
    "plots/importance.json",
    "plots/scatter.yaml",
    "plots/roc.tsv",
    "plots/sample.png",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build(tmp_path_factory.mktemp("plots") / "repo", gallery=True)
    retrain(root, 0.2)
    return root


def _loss_at(root: Path, rev: str) -> list[tuple[int, float]]:
    """loss.csv at `rev`, read as a user would: the oid in that gitml.lock, from the cache."""
    lock = git("show", f"{rev}:gitml.lock", cwd=root)
    oid = re.search(r"path: loss.csv\n\s+oid: blake3:([0-9a-f]+)", lock)
    assert oid is not None
    data = (root / ".gitml" / "cache" / "blake3" / oid[1][:2] / oid[1][2:]).read_text()
    return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(io.StringIO(data))]


def test_show_json_has_one_series_per_revision_with_the_committed_values(project: Path) -> None:
    doc = json.loads(
        run_gitml("plots", "show", "--rev", "HEAD~1", "--rev", "HEAD", "--json", cwd=project).stdout
    )
    assert doc["revisions"] == ["HEAD~1", "HEAD"]
    assert [p["path"] for p in doc["plots"]] == PLOTS
    loss = doc["plots"][0]
    assert loss["title"] == "Training loss" and loss["template"] == "line"
    spec = loss["vega_lite"]
    assert spec["$schema"].endswith("vega-lite/v5.json") and spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["title"] == "step" and spec["encoding"]["y"]["title"] == "loss"
    for rev in ("HEAD~1", "HEAD"):
        points = [(v["x"], v["y"]) for v in spec["data"]["values"] if v["rev"] == rev]
        assert points == _loss_at(project, rev)
    assert _loss_at(project, "HEAD~1") != _loss_at(project, "HEAD")
    bar = doc["plots"][2]["vega_lite"]
    assert bar["mark"]["type"] == "bar" and bar["encoding"]["x"]["type"] == "nominal"
    confusion = doc["plots"][1]["vega_lite"]
    assert confusion["spec"]["mark"] == "rect"
    assert len([v for v in confusion["data"]["values"] if v["rev"] == "HEAD"]) == 40
    image = doc["plots"][5]["vega_lite"]
    assert [v["rev"] for v in image["data"]["values"]] == ["HEAD~1", "HEAD"]
    assert image["data"]["values"][0]["src"].startswith("data:image/png;base64,")


def test_diff_writes_an_offline_page_with_one_chart_per_plot(project: Path) -> None:
    result = run_gitml("plots", "diff", "HEAD~1", "HEAD", "-o", "out", cwd=project)
    page = (project / "out" / "index.html").read_text()
    assert "out/index.html" in result.stdout
    sections = re.findall(r'<section class="plot" data-path="([^"]+)">', page)
    assert sections == PLOTS
    assert page.count("<svg") == 5  # every table plot; the PNG is shown as it is
    assert page.count('<img src="data:image/png;base64,') == 2
    # offline: no script, no stylesheet link, nothing loaded from a URL
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "Content-Security-Policy" in page
    loss = page[page.index('data-path="loss.csv"') : page.index('data-path="plots/confusion.csv"')]
    assert loss.count("<polyline") == 2  # HEAD~1 and HEAD
    assert 'class="axis-label x-label"' in loss and ">step<" in loss and ">loss<" in loss


def test_diff_defaults_to_head_against_the_workspace(project: Path) -> None:
    doc = json.loads(run_gitml("plots", "diff", "--json", cwd=project).stdout)
    assert doc["revisions"] == ["HEAD", "workspace"]


def test_show_targets_and_a_revision_without_the_plot(project: Path) -> None:
    doc = json.loads(run_gitml("plots", "show", "loss.csv", "--json", cwd=project).stdout)
    assert [p["path"] for p in doc["plots"]] == ["loss.csv"]
    first = git("rev-list", "--max-parents=0", "HEAD", cwd=project).strip()
    missing = run_gitml("plots", "show", "--rev", first, "--rev", "HEAD", cwd=project, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"gitml: error: loss.csv: no such plot file in revision {first}"
    ]


@pytest.mark.parametrize(
    ("plot", "content", "message"),
    [
        (
            "bad.csv: {x: step, y: accuracy}",
            "step,loss\n0,1\n",
            "bad.csv: no field 'accuracy' (fields: step, loss)",
        ),
        (
            "bad.csv: {x: epoch, y: loss}",
            "step,loss\n0,1\n",
            "bad.csv: no field 'epoch' (fields: step, loss)",
        ),
        (
            "bad.json",
            '{"loss": 0.5}',
            "bad.json: not a table (expected a list of records with named fields)",
        ),
        (
            "bad.yaml",
            "just text\n",
            "bad.yaml: not a table (expected a list of records with named fields)",
        ),
        ("bad.csv: {template: pie}", "a,b\n1,2\n", "unknown plot template 'pie'"),
    ],
)
def test_bad_plot_files_fail_with_one_line(
    tmp_path: Path, plot: str, content: str, message: str
) -> None:
    root = tmp_path / "repo"
    from tests.conftest import make_repo

    make_repo(root)
    run_gitml("init", cwd=root)
    name = plot.split(":")[0]
    write(root / "gitml.yaml", f"stages:\n  s:\n    cmd: echo\n    plots:\n      - {plot}\n")
    write(root / name, content)
    result = run_gitml("plots", "show", cwd=root, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (root / "gitml_plots").exists()


def test_top_level_plots_as_dvc_writes_them(tmp_path: Path) -> None:
    from tests.conftest import make_repo

    root = make_repo(tmp_path / "repo")
    run_gitml("init", cwd=root)
    write(
        root / "gitml.yaml",
        "stages:\n  s:\n    cmd: echo\n"
        "plots:\n"
        "  - acc.csv\n"
        "  - evaluation:\n      x: {eval.json: threshold}\n      y: {eval.json: precision}\n",
    )
    write(root / "acc.csv", "epoch,acc\n0,0.5\n1,0.75\n")
    write(
        root / "eval.json", json.dumps([{"threshold": t, "precision": 1 - t} for t in (0.1, 0.5)])
    )
    doc = json.loads(run_gitml("plots", "show", "--json", cwd=root).stdout)
    assert [(p["path"], p["title"]) for p in doc["plots"]] == [
        ("acc.csv", "acc.csv"),
        ("eval.json", "evaluation"),
    ]
    acc, evaluation = (p["vega_lite"] for p in doc["plots"])
    # no x: the row number; no y: the last field
    assert [(v["x"], v["y"]) for v in acc["data"]["values"]] == [(0, 0.5), (1, 0.75)]
    assert [(v["x"], v["y"]) for v in evaluation["data"]["values"]] == [(0.1, 0.9), (0.5, 0.5)]
    assert evaluation["encoding"]["x"]["title"] == "threshold"


def test_an_experiment_is_a_series_of_its_own(project: Path) -> None:
    run_gitml("exp", "run", "--temp", "-S", "train.lr=0.5", "-n", "fast", cwd=project)
    doc = json.loads(run_gitml("plots", "diff", "HEAD", "fast", "--json", cwd=project).stdout)
    assert doc["revisions"] == ["HEAD", "fast"]
    values = doc["plots"][0]["vega_lite"]["data"]["values"]
    fast = [v["y"] for v in values if v["rev"] == "fast"]
    head = [v["y"] for v in values if v["rev"] == "HEAD"]
    # the stand-in trainer's loss curve is 1 / (1 + step * lr * 10)
    assert fast == [round(1 / (1 + step * 5), 4) for step in range(5)]
    assert head == [round(1 / (1 + step * 2), 4) for step in range(5)]
