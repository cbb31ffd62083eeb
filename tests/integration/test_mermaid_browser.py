"""The Mermaid that `gitml lineage --mermaid` and `gitml report --md` print, drawn by the
real Mermaid library (as GitHub and GitLab do) in headless Chromium: every block parses
and becomes an SVG, with no error. Mermaid comes from the npm registry (`npm pack`)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.browser import chromium_or_skip, render
from tests.conftest import run_gitml
from tests.ml_repo import build, retrain

MERMAID = "mermaid@11"


@pytest.fixture(scope="module")
def mermaid_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch the Mermaid library")
    folder = tmp_path_factory.mktemp("mermaid")
    packed = subprocess.run(
        [npm, "pack", MERMAID, "--silent"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    if packed.returncode != 0:
        pytest.skip(f"npm pack {MERMAID} failed: {packed.stderr.strip()[-200:]}")
    with tarfile.open(folder / packed.stdout.strip().splitlines()[-1]) as archive:
        archive.extract("package/dist/mermaid.min.js", folder, filter="data")
    return folder / "package" / "dist" / "mermaid.min.js"


def test_lineage_graph_and_report_charts_draw_in_mermaid(tmp_path: Path, mermaid_js: Path) -> None:
    chromium_or_skip()
    root = build(tmp_path / "repo", gallery=True)
    retrain(root, 0.2)
    graph = run_gitml("lineage", "model.bin", "--mermaid", cwd=root).stdout
    report = run_gitml("report", "--md", cwd=root).stdout
    blocks = [graph, *re.findall(r"```mermaid\n(.*?)```", report, re.S)]
    assert len(blocks) == 3  # the graph, auc and loss
    sections = "".join(
        f'<section class="chart" data-path="block{i}"><pre class="mermaid">{html.escape(b)}</pre>'
        "</section>"
        for i, b in enumerate(blocks)
    )
    page = tmp_path / "mermaid.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{mermaid_js.as_uri()}">'
        f"</script></head><body>{sections}<script>mermaid.initialize({{startOnLoad: false}});"
        "mermaid.run().then(() => { document.title = 'drawn'; })"
        ".catch(e => { console.error(String(e)); document.title = 'failed'; });</script>"
        "</body></html>"
    )
    rendered = render(page, "mermaid", ready="document.title !== ''")
    assert rendered.errors == []
    assert [len(s["svgs"]) for s in rendered.sections] == [1, 1, 1]
    for section in rendered.sections:
        (svg,) = section["svgs"]
        assert svg["w"] > 200 and svg["h"] > 100, section
