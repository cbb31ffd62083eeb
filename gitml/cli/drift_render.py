"""Text and Markdown renderings of a drift report."""

from __future__ import annotations

from typing import Any


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rows(report: Any) -> list[list[str]]:
    rows = []
    for c in report.columns:
        s = c.stats
        nulls = s["null_rate"]
        main = (
            [_num(s.get("psi")), _num(s.get("ks")), _num(s.get("wasserstein")), "-"]
            if c.kind == "numeric"
            else [_num(s.get("psi")), "-", "-", _num(s.get("jensen_shannon"))]
        )
        notes = []
        if s.get("new_count"):
            notes.append(f"{s['new_count']} new")
        if s.get("vanished_count"):
            notes.append(f"{s['vanished_count']} vanished")
        if c.exceeded:
            notes.append("over " + ", ".join(c.exceeded))
        rows.append(
            [c.column, c.kind, *main, f"{_num(nulls['reference'])} -> {_num(nulls['current'])}",
             "DRIFT" if c.drifted else "ok", "; ".join(notes)]
        )  # fmt: skip
    return rows


_HEADER = ["column", "kind", "PSI", "KS", "Wasserstein", "Jensen-Shannon", "null rate", "", "notes"]


def _summary(report: Any) -> list[str]:
    lines = [
        f"reference {report.reference} ({report.reference_rows} rows,"
        f" profile {report.reference_profile})"
        f" vs current {report.current} ({report.current_rows} rows)"
    ]
    if report.added:
        lines.append("added columns: " + ", ".join(report.added))
    if report.removed:
        lines.append("removed columns: " + ", ".join(report.removed))
    for r in report.retyped:
        lines.append(f"retyped column: {r['column']} {r['reference']} -> {r['current']}")
    drifted = report.drifted
    lines.append(f"drifted: {', '.join(drifted)}" if drifted else "no column drifted")
    return lines


def render_text(report: Any) -> str:
    rows = [_HEADER, *_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join([*_summary(report)[:1], "", *table, "", *_summary(report)[1:]])


def render_markdown(report: Any) -> str:
    lines = ["### Data drift", "", *(f"- {line}" for line in _summary(report)), ""]
    lines.append("| " + " | ".join(h or "status" for h in _HEADER) + " |")
    lines.append("|" + "---|" * len(_HEADER))
    for r in _rows(report):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |")
    return "\n".join(lines)
