"""Charts drawn as standalone SVG by hand: no JavaScript and no dependency, so a page of
them opens offline anywhere and renders in milliseconds (docs/design.md, "Lineage, plots
and reports")."""

from __future__ import annotations

import math
from collections import Counter
from html import escape
from typing import Any

from gitml.plots.charts import Chart, Series

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 170, 36, 52
COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.2g}"
    return f"{value:.6g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0]
    if high == low:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Canvas:
    def __init__(self, chart: Chart, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.chart = chart
        self.width, self.height = width, height
        self.parts: list[str] = []

    def text(self, x: float, y: float, content: str, css: str, **attrs: str) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" class="{css}"{extra}>{escape(content)}</text>'
        )

    def frame(self) -> None:
        c = self.chart
        self.text(self.width / 2, 22, c.title, "title", text_anchor="middle")
        self.text(
            LEFT + (self.width - LEFT - RIGHT) / 2,
            self.height - 10,
            c.x_label,
            "axis-label x-label",
            text_anchor="middle",
        )
        mid = TOP + (self.height - TOP - BOTTOM) / 2
        self.text(
            16, mid, c.y_label, "axis-label y-label", text_anchor="middle",
            transform=f"rotate(-90 16 {mid:.1f})",
        )  # fmt: skip

    def legend(self, names: list[str]) -> None:
        x = self.width - RIGHT + 16
        for i, name in enumerate(names):
            y = TOP + 8 + i * 18
            color = COLORS[i % len(COLORS)]
            self.parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
            self.text(x + 16, y, name[:24], "legend")

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" class="chart" role="img" '
            f'aria-label="{escape(self.chart.title)}">\n'
            "<style>text{font:12px sans-serif;fill:#333}.title{font-weight:bold;font-size:14px}"
            ".axis line,.axis path{stroke:#888}.grid{stroke:#eee}.cell-count{font-size:11px}"
            "</style>\n"
            f"{body}\n</svg>"
        )


def _y_axis(canvas: _Canvas, ticks: list[float], y_of: Any) -> None:
    right = canvas.width - RIGHT
    for t in ticks:
        y = y_of(t)
        canvas.parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        canvas.text(LEFT - 6, y + 4, _fmt(t), "tick y-tick", text_anchor="end")
    bottom = canvas.height - BOTTOM
    canvas.parts.append(
        f'<g class="axis"><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>'
        f'<line x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}"/></g>'
    )


def _xy(chart: Chart) -> str:
    canvas = _Canvas(chart)
    canvas.frame()
    series = [s for s in chart.series if s.points]
    xs = [x for s in series for x, _ in s.points]
    ys = [float(y) for s in series for _, y in s.points if _is_number(y)]
    if chart.plot.template == "bar":
        ys.append(0.0)  # bars grow from zero
    plot_w = canvas.width - LEFT - RIGHT
    plot_h = canvas.height - TOP - BOTTOM
    y_ticks = nice_ticks(min(ys, default=0.0), max(ys, default=1.0))
    y_low, y_high = y_ticks[0], y_ticks[-1]

    def y_of(v: float) -> float:
        return TOP + plot_h - (v - y_low) / ((y_high - y_low) or 1) * plot_h

    _y_axis(canvas, y_ticks, y_of)
    bottom = canvas.height - BOTTOM
    numeric_x = chart.plot.template != "bar" and all(_is_number(x) for x in xs)
    if numeric_x:
        x_ticks = nice_ticks(min(xs, default=0), max(xs, default=1))
        x_low, x_high = x_ticks[0], x_ticks[-1]

        def x_of(v: Any) -> float:
            return float(LEFT + (float(v) - x_low) / ((x_high - x_low) or 1) * plot_w)

        for t in x_ticks:
            canvas.text(x_of(t), bottom + 16, _fmt(t), "tick x-tick", text_anchor="middle")
    else:
        categories = list(dict.fromkeys(str(x) for x in xs))
        band = plot_w / max(len(categories), 1)
        position = {c: LEFT + band * (i + 0.5) for i, c in enumerate(categories)}

        def x_of(v: Any) -> float:
            return position[str(v)]

        step = max(1, len(categories) // 12)
        for c in categories[::step]:
            canvas.text(position[c], bottom + 16, c[:12], "tick x-tick", text_anchor="middle")
    if chart.plot.template == "bar":
        _bars(canvas, series, x_of, y_of, plot_w, len(set(map(str, xs))) or 1)
    else:
        for i, s in enumerate(series):
            color = COLORS[i % len(COLORS)]
            points = [(x_of(x), y_of(float(y))) for x, y in s.points if _is_number(y)]
            if chart.plot.template == "line" and len(points) > 1:
                coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
                canvas.parts.append(
                    f'<polyline class="series" data-series="{escape(s.name)}" fill="none" '
                    f'stroke="{color}" stroke-width="2" points="{coords}"/>'
                )
            else:
                canvas.parts.extend(
                    f'<circle class="series" data-series="{escape(s.name)}" cx="{px:.1f}" '
                    f'cy="{py:.1f}" r="3" fill="{color}"/>'
                    for px, py in points
                )
    canvas.legend([s.name for s in series])
    return canvas.render()


def _bars(
    canvas: _Canvas, series: list[Series], x_of: Any, y_of: Any, plot_w: float, groups: int
) -> None:
    band = plot_w / groups
    width = band * 0.8 / max(len(series), 1)
    base = y_of(0.0)
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        for x, y in s.points:
            if not _is_number(y):
                continue
            left = x_of(x) - band * 0.4 + i * width
            top = min(y_of(float(y)), base)
            height = abs(base - y_of(float(y)))
            canvas.parts.append(
                f'<rect class="series" data-series="{escape(s.name)}" x="{left:.1f}" '
                f'y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{color}"/>'
            )


def _confusion(chart: Chart) -> str:
    """One grid per revision: actual (x) against predicted (y), cells shaded by count."""
    panels = [s for s in chart.series if s.points]
    labels = sorted({str(v) for s in panels for point in s.points for v in point})
    size = max(min(36, 260 // max(len(labels), 1)), 14)
    panel_w = LEFT + size * len(labels) + 24
    canvas = _Canvas(chart, max(panel_w * len(panels), 320), TOP + 40 + size * len(labels) + BOTTOM)
    canvas.text(canvas.width / 2, 22, chart.title, "title", text_anchor="middle")
    for p, s in enumerate(panels):
        counts = Counter((str(x), str(y)) for x, y in s.points)
        peak = max(counts.values())
        left = p * panel_w + LEFT
        canvas.text(left + size * len(labels) / 2, TOP + 8, s.name, "legend", text_anchor="middle")
        top = TOP + 20
        for i, actual in enumerate(labels):
            canvas.text(
                left + size * (i + 0.5),
                top + size * len(labels) + 14,
                actual[:8],
                "tick x-tick",
                text_anchor="middle",
            )
            canvas.text(
                left - 4, top + size * (i + 0.6), actual[:8], "tick y-tick", text_anchor="end"
            )
            for j, predicted in enumerate(labels):
                n = counts.get((actual, predicted), 0)
                shade = 0.08 + 0.92 * n / peak if n else 0.0
                canvas.parts.append(
                    f'<rect class="cell" x="{left + size * i:.1f}" y="{top + size * j:.1f}" '
                    f'width="{size}" height="{size}" fill="#4e79a7" fill-opacity="{shade:.2f}" '
                    f'stroke="#ccc"/>'
                )
                if n:
                    canvas.text(
                        left + size * (i + 0.5),
                        top + size * (j + 0.65),
                        str(n),
                        "cell-count",
                        text_anchor="middle",
                    )
        canvas.text(
            left + size * len(labels) / 2,
            canvas.height - 10,
            chart.x_label,
            "axis-label x-label",
            text_anchor="middle",
        )
    mid = TOP + 20 + size * len(labels) / 2
    canvas.text(
        14,
        mid,
        chart.y_label,
        "axis-label y-label",
        text_anchor="middle",
        transform=f"rotate(-90 14 {mid:.1f})",
    )
    return canvas.render()


def render(chart: Chart) -> str:
    """The chart as one `<svg>` element (images are not charts: see gitml.plots.page)."""
    if chart.plot.template == "confusion":
        return _confusion(chart)
    return _xy(chart)
