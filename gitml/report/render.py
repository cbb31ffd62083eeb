"""A report as Markdown (tables, and Mermaid `xychart-beta` charts that GitHub and GitLab
draw, so a pull-request comment needs no image upload) or as one offline HTML page."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from gitml.plots.charts import Chart, Series
from gitml.plots.definitions import PlotDef
from gitml.report.collect import Report, metric_keys


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def experiments_table(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows: every metric, and the params that differ between rows (all of
    them when there is one row)."""
    metrics = list(dict.fromkeys(k for r in report.runs for k in r.metrics))
    params = list(dict.fromkeys(k for r in report.runs for k in r.params))
    if len(report.runs) > 1:
        params = [p for p in params if len({_cell(r.params.get(p)) for r in report.runs}) > 1]
    header = ["experiment", "state", *metrics, *params]
    rows = [
        [
            r.name if r.rev == "workspace" else f"{r.name} ({r.rev[:7]})",
            r.state,
            *[_cell(r.metrics.get(m)) for m in metrics],
            *[_cell(r.params.get(p)) for p in params],
        ]
        for r in report.runs
    ]
    return header, rows


def registry_table(report: Report) -> tuple[list[str], list[list[str]]]:
    return ["model", "stage", "version", "commit"], [
        [a.model, a.stage, a.version or "-", a.commit[:7]] for a in report.registry
    ]


def checks_table(report: Report) -> tuple[list[str], list[list[str]]]:
    assert report.checks is not None
    rows = []
    for check in report.checks.get("checks", []):
        if not isinstance(check, dict):
            continue
        details = {k: v for k, v in check.items() if k not in ("kind", "target", "passed")}
        rows.append(
            [
                "pass" if check.get("passed") else "FAIL",
                str(check.get("kind", "")),
                str(check.get("target", "")),
                _cell(details) if details else "",
            ]
        )
    return ["result", "kind", "target", "details"], rows


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|", *map(line, rows)])


def _series(report: Report, key: str) -> list[tuple[str, float]]:
    return [
        (p.commit[:7], float(p.metrics[key]))
        for p in report.history
        if isinstance(p.metrics.get(key), int | float) and not isinstance(p.metrics[key], bool)
    ]


def mermaid_chart(key: str, points: list[tuple[str, float]]) -> str:
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    labels = ", ".join(json.dumps(c) for c, _ in points)
    values = ", ".join(f"{v:.6g}" for _, v in points)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f"    title {json.dumps(key + ' over the last commits')}",
            f"    x-axis [{labels}]",
            f"    y-axis {json.dumps(key)} {low - pad:.6g} --> {high + pad:.6g}",
            f"    line [{values}]",
            "```",
        ]
    )


def markdown(report: Report) -> str:
    parts = ["## gitml report", "", "### Experiments", ""]
    parts.append(_md_table(*experiments_table(report)))
    keys = metric_keys(report)
    parts += ["", f"### Metrics over the last {len(report.history)} commits", ""]
    if not keys:
        parts.append("No metrics recorded in these commits.")
    for key in keys:
        points = _series(report, key)
        parts += [mermaid_chart(key, points), ""]
    parts += ["### Model registry", ""]
    parts.append(
        _md_table(*registry_table(report)) if report.registry else "No model is assigned a stage."
    )
    if report.checks is not None:
        verdict = "passed" if report.checks.get("passed") else "FAILED"
        parts += ["", f"### Checks: {verdict}", "", _md_table(*checks_table(report))]
    return "\n".join(parts).rstrip() + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def history_charts(report: Report) -> list[Chart]:
    charts = []
    for key in metric_keys(report):
        plot = PlotDef(key, "line", x="commit", title=f"{key} over the last commits")
        chart = Chart(plot, "commit", key)
        chart.series.append(Series("HEAD", "", list(_series(report, key))))
        charts.append(chart)
    return charts


def html_sections(report: Report) -> list[str]:
    from gitml.plots import svg

    sections = [
        '<section class="table" id="experiments"><h2>Experiments</h2>'
        + _html_table(*experiments_table(report))
        + "</section>"
    ]
    for chart in history_charts(report):
        sections.append(
            f'<section class="chart" data-path="{escape(chart.plot.path)}">'
            f"<h2>{escape(chart.title)}</h2>\n{svg.render(chart)}</section>"
        )
    registry = (
        _html_table(*registry_table(report))
        if report.registry
        else "<p>No model is assigned a stage.</p>"
    )
    sections.append(
        f'<section class="table" id="registry"><h2>Model registry</h2>{registry}</section>'
    )
    if report.checks is not None:
        verdict = "passed" if report.checks.get("passed") else "FAILED"
        sections.append(
            f'<section class="table" id="checks"><h2>Checks: {verdict}</h2>'
            + _html_table(*checks_table(report))
            + "</section>"
        )
    return sections
