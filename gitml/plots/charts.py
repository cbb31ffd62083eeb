"""Charts: one per declared plot, one series per revision (and per y field). Each chart
is also given as a Vega-Lite specification (`--json`), so other tools can draw it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from gitml.errors import FormatError
from gitml.pipeline.revision_files import RevisionFiles
from gitml.plots.data import Revision, fields_of, parse_table
from gitml.plots.definitions import PlotDef, image_type

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


@dataclass
class Series:
    rev: str
    y_field: str
    points: list[tuple[Any, Any]]  # (x, y)

    @property
    def name(self) -> str:
        return self.rev if self.y_field == "" else f"{self.rev}: {self.y_field}"


@dataclass
class Image:
    rev: str
    media_type: str
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass
class Chart:
    plot: PlotDef
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.plot.title or self.plot.path

    def vega_lite(self) -> dict[str, Any]:
        """This chart as a Vega-Lite v5 specification with its data inline."""
        if self.plot.is_image:
            return {
                "$schema": VEGA_LITE_SCHEMA,
                "title": self.title,
                "data": {"values": [{"rev": i.rev, "src": i.data_uri()} for i in self.images]},
                "mark": "image",
                "encoding": {"url": {"field": "src"}, "facet": {"field": "rev"}},
            }
        values = [
            {"rev": s.rev, "field": s.y_field, "x": x, "y": y}
            for s in self.series
            for x, y in s.points
        ]
        template = self.plot.template
        if template == "confusion":
            return {
                "$schema": VEGA_LITE_SCHEMA,
                "title": self.title,
                "data": {"values": values},
                "facet": {"field": "rev", "type": "nominal"},
                "spec": {
                    "mark": "rect",
                    "encoding": {
                        "x": {"field": "x", "type": "nominal", "title": self.x_label},
                        "y": {"field": "y", "type": "nominal", "title": self.y_label},
                        "color": {"aggregate": "count", "type": "quantitative"},
                    },
                },
            }
        mark = {"line": "line", "scatter": "point", "bar": "bar"}[template]
        x_type = "nominal" if template == "bar" or not _numeric_x(self) else "quantitative"
        encoding: dict[str, Any] = {
            "x": {"field": "x", "type": x_type, "title": self.x_label},
            "y": {"field": "y", "type": "quantitative", "title": self.y_label},
            "color": {"field": "series", "type": "nominal"},
        }
        if template == "bar":
            encoding["xOffset"] = {"field": "series"}
        return {
            "$schema": VEGA_LITE_SCHEMA,
            "title": self.title,
            "data": {"values": values},
            "transform": [
                {
                    "calculate": "datum.field ? datum.rev + ': ' + datum.field : datum.rev",
                    "as": "series",
                }
            ],
            "mark": {"type": mark, "tooltip": True},
            "encoding": encoding,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.plot.path,
            "template": self.plot.template,
            "title": self.title,
            "revisions": list(
                dict.fromkeys([s.rev for s in self.series] + [i.rev for i in self.images])
            ),
            "vega_lite": self.vega_lite(),
        }


def _numeric_x(chart: Chart) -> bool:
    return all(
        isinstance(x, int | float) and not isinstance(x, bool)
        for s in chart.series
        for x, _ in s.points
    )


def build_chart(plot: PlotDef, revisions: list[Revision], files: RevisionFiles) -> Chart:
    """The chart of `plot` with one series per revision (per y field when there are several);
    a revision without the plot file is a FormatError naming both."""
    chart = Chart(plot, plot.x_label or plot.x or "step", plot.y_label or "")
    for rev in revisions:
        where = plot.path if rev.commit is None else f"{rev.label}:{plot.path}"
        data = files.read_bytes(rev.name, plot.path)
        if data is None:
            at = "the workspace" if rev.commit is None else f"revision {rev.label}"
            raise FormatError(f"{plot.path}: no such plot file in {at}")
        if plot.is_image:
            media_type = image_type(plot.path)
            assert media_type is not None
            chart.images.append(Image(rev.label, media_type, data))
            continue
        rows = parse_table(data, plot.path, where, plot.header)
        x_field, y_fields = fields_of(plot, rows, where)
        if not chart.y_label:
            chart.y_label = ", ".join(y_fields)
        for y_field in y_fields:
            points = []
            for index, row in enumerate(rows):
                if y_field not in row:
                    continue
                x = index if x_field is None else row.get(x_field)
                points.append((x, row[y_field]))
            label = y_field if len(y_fields) > 1 else ""
            chart.series.append(Series(rev.label, label, points))
    return chart
