"""One offline HTML page: every chart inline as SVG and every image as a data URI. The
page loads nothing (its Content-Security-Policy forbids any fetch) and runs no script."""

from __future__ import annotations

from html import escape

from gitml.plots import svg
from gitml.plots.charts import Chart

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = (
    "body{font-family:sans-serif;margin:24px;color:#222;background:#fff}"
    "section.plot{margin:0 0 28px}figure{display:inline-block;margin:0 16px 16px 0}"
    "figure img{max-width:420px;min-width:96px;image-rendering:pixelated;border:1px solid #ddd}"
    "figcaption{font-size:12px;color:#555}"
    "h1{font-size:20px}h2{font-size:15px;margin:8px 0}"
    "table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #ddd;padding:4px 8px;"
    "font-size:13px;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child"
    "{text-align:left}"
)


def chart_section(chart: Chart) -> str:
    heading = f"<h2>{escape(chart.plot.path)}</h2>"
    if chart.plot.is_image:
        figures = "".join(
            f'<figure><img src="{i.data_uri()}" alt="{escape(chart.plot.path)} at {escape(i.rev)}">'
            f"<figcaption>{escape(i.rev)}</figcaption></figure>"
            for i in chart.images
        )
        body = figures
    else:
        body = svg.render(chart)
    return (
        f'<section class="plot" data-path="{escape(chart.plot.path)}">{heading}\n{body}</section>'
    )


def html_page(title: str, sections: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )
