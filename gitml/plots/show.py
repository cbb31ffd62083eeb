"""`gitml plots show` and `gitml plots diff`: the declared plots at the asked revisions,
as charts (and, with `write_page`, one offline HTML page)."""

from __future__ import annotations

from pathlib import Path

from gitml import git
from gitml.errors import PipelineError
from gitml.objects import ObjectSource
from gitml.plots.charts import Chart, build_chart
from gitml.plots.data import Revision, RevisionFiles
from gitml.plots.definitions import PlotDef, declared_plots

INDEX = "index.html"


def revisions(root: Path, names: list[str | None]) -> list[Revision]:
    """Revisions as the user named them (None: the work tree), each resolved once."""
    from gitml.revisions import resolve

    return [
        Revision("workspace", None) if name is None else Revision(name, resolve(root, name))
        for name in dict.fromkeys(names)
    ]


def _definitions(root: Path, revs: list[Revision]) -> list[PlotDef]:
    """The plots gitml.yaml declares: in the work tree when it is one of `revs`, else at
    the first revision that has a pipeline."""
    from gitml.pipeline.spec import load_pipeline, pipeline_at

    ordered = sorted(revs, key=lambda r: r.commit is not None)
    for rev in ordered:
        pipeline = load_pipeline(root) if rev.commit is None else pipeline_at(root, rev.commit)
        if pipeline is not None:
            return declared_plots(pipeline)
    raise PipelineError("no gitml.yaml at the asked revisions: no plots are declared")


def charts(
    root: Path, revs: list[Revision], source: ObjectSource, targets: list[str] | None = None
) -> list[Chart]:
    plots = _definitions(root, revs)
    if targets:
        known = {p.path for p in plots}
        for target in targets:
            if target not in known:
                raise PipelineError(f"{target}: not a plot declared in gitml.yaml")
        plots = [p for p in plots if p.path in targets]
    with git.CatFile(root) as cat:
        files = RevisionFiles(root, cat, source)
        return [build_chart(plot, revs, files) for plot in plots]


def write_page(out_dir: Path, title: str, sections: list[str]) -> Path:
    from gitml.fsutil import atomic_write_bytes
    from gitml.plots.page import html_page

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / INDEX
    atomic_write_bytes(target, html_page(title, sections).encode("utf-8"))
    return target
