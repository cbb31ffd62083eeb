"""Which plots a pipeline declares: stage `plots:` outs and top-level `plots:` entries,
with their properties (x, y, template, title, axis labels, header)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitml.errors import FormatError
from gitml.pipeline.spec import Pipeline, workspace_path

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
TABLE_SUFFIXES = (".csv", ".tsv", ".json", ".yaml", ".yml")
# DVC's template names; "linear", "simple" and "smooth" draw lines as "line" does.
TEMPLATES = {
    "line": "line",
    "linear": "line",
    "simple": "line",
    "smooth": "line",
    "scatter": "scatter",
    "bar": "bar",
    "bar_horizontal": "bar",
    "confusion": "confusion",
    "confusion_normalized": "confusion",
}


@dataclass(frozen=True)
class PlotDef:
    path: str
    template: str = "line"  # line, scatter, bar, confusion; "image" for images
    x: str | None = None  # None: the row number, named "step" (as DVC)
    y: tuple[str, ...] = ()  # empty: the last field of the table
    title: str | None = None
    x_label: str | None = None
    y_label: str | None = None
    header: bool = True

    @property
    def is_image(self) -> bool:
        return self.template == "image"


def image_type(path: str) -> str | None:
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    return IMAGE_TYPES.get(suffix)


def plot_def(path: str, props: dict[str, Any], where: str) -> PlotDef:
    if image_type(path) is not None:
        return PlotDef(path, "image", title=_text(props.get("title"), where, "title"))
    template_name = props.get("template", "line")
    if not isinstance(template_name, str) or template_name not in TEMPLATES:
        raise FormatError(
            f"{where}: unknown plot template {str(template_name)[:40]!r} "
            f"(use one of {', '.join(sorted(TEMPLATES))})"
        )
    y = props.get("y")
    if y is None:
        ys: tuple[str, ...] = ()
    elif isinstance(y, str):
        ys = (y,)
    elif isinstance(y, list) and y and all(isinstance(v, str) for v in y):
        ys = tuple(y)
    else:
        raise FormatError(f"{where}: y must be a field name or a list of field names")
    header = props.get("header", True)
    if not isinstance(header, bool):
        raise FormatError(f"{where}: header must be true or false")
    return PlotDef(
        path,
        TEMPLATES[template_name],
        x=_text(props.get("x"), where, "x"),
        y=ys,
        title=_text(props.get("title"), where, "title"),
        x_label=_text(props.get("x_label"), where, "x_label"),
        y_label=_text(props.get("y_label"), where, "y_label"),
        header=header,
    )


def _text(value: Any, where: str, key: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise FormatError(f"{where}: {key} must be a string")


def top_level_plots(entries: Any, where: str, base: str = "") -> list[PlotDef]:
    """Top-level `plots:` as DVC writes them: `- path`, `- path: {props}`, or
    `- name: {y: {path: field}, ...}` naming one file's fields (several files in one
    chart are refused, one line)."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise FormatError(f"{where}: must be a list of plots")
    plots = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        props: dict[str, Any] = {}
        if isinstance(entry, str):
            path = entry
        elif isinstance(entry, dict) and len(entry) == 1:
            ((path, options),) = entry.items()
            if not isinstance(path, str) or not isinstance(options, dict | None):
                raise FormatError(f"{at}: must be a path or a mapping of one path to its options")
            props = dict(options or {})
            y = props.get("y")
            if isinstance(y, dict):
                if len(y) != 1:
                    raise FormatError(f"{at}: a plot drawing several files is not supported")
                props.setdefault("title", path)
                ((path, props["y"]),) = y.items()
                if isinstance(props.get("x"), dict):
                    props["x"] = props["x"].get(path)
        else:
            raise FormatError(f"{at}: must be a path or a mapping of one path to its options")
        plots.append(plot_def(workspace_path(path, base, at), props, f"{at} '{path}'"))
    return plots


def declared_plots(pipeline: Pipeline, top_level: Sequence[PlotDef] = ()) -> list[PlotDef]:
    """Every plot of the pipeline, in the order gitml.yaml declares them: stage plots,
    then `top_level` (see `top_level_plots`)."""
    plots: dict[str, PlotDef] = {}
    for stage in pipeline.stages.values():
        for out in stage.outs:
            if out.kind == "plots" and out.path not in plots:
                where = f"{pipeline.file}: stage '{stage.name}': plots '{out.path}'"
                plots[out.path] = plot_def(out.path, dict(out.plot), where)
    for plot in top_level:
        plots.setdefault(plot.path, plot)
    return list(plots.values())
