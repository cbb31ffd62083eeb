"""`gitml plots show` and `gitml plots diff`: the declared plots at the asked revisions,
as charts (and, with `write_page`, one offline HTML page)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitml import git
from gitml.errors import PipelineError
from gitml.plots.charts import Chart, build_chart
from gitml.plots.data import Revision
from gitml.plots.definitions import PlotDef, declared_plots, top_level_plots

if TYPE_CHECKING:
    from gitml.workspace import Workspace

INDEX = "index.html"


def revisions(root: Path, names: list[str | None]) -> list[Revision]:
    """Revisions as the user named them (None: the work tree), each resolved once."""
    from gitml.revisions import resolve

    return [
        Revision("workspace", None) if name is None else Revision(name, resolve(root, name))
        for name in dict.fromkeys(names)
    ]


def _definitions(root: Path, revs: list[Revision]) -> list[PlotDef]:
    """The plots every gitml.yaml declares: in the work tree when it is one of `revs`,
    else at the first revision that has a pipeline."""
    import posixpath

    from gitml.pipeline import project
    from gitml.pipeline.project import load_pipelines, load_pipelines_at
    from gitml.pipeline.yamlio import load_yaml

    ordered = sorted(revs, key=lambda r: r.commit is not None)
    for rev in ordered:
        pipeline = (
            load_pipelines(root) if rev.commit is None else load_pipelines_at(root, rev.commit)
        )
        if pipeline is None:
            continue
        top_level: list[PlotDef] = []
        files = (
            project.pipeline_files(root)
            if rev.commit is None
            else project.pipeline_files_at(root, rev.commit)
        )
        for file in files:
            raw = (
                (root / file).read_bytes()
                if rev.commit is None
                else git.show_file(root, rev.commit, file)
            )
            document = None if raw is None else load_yaml(raw, file)
            if isinstance(document, dict):
                where = f"{file}: plots"
                base = posixpath.dirname(file)
                top_level += top_level_plots(document.get("plots"), where, base)
        return declared_plots(pipeline, top_level)
    raise PipelineError("no gitml.yaml at the asked revisions: no plots are declared")


def charts(ws: Workspace, revs: list[Revision], targets: list[str] | None = None) -> list[Chart]:
    from gitml.pipeline.revision_files import RevisionFiles

    plots = _definitions(ws.root, revs)
    if targets:
        known = {p.path for p in plots}
        for target in targets:
            if target not in known:
                raise PipelineError(f"{target}: not a plot declared in gitml.yaml")
        plots = [p for p in plots if p.path in targets]
    with RevisionFiles(ws) as files:
        return [build_chart(plot, revs, files) for plot in plots]


def write_page(out_dir: Path, title: str, sections: list[str]) -> Path:
    from gitml.fsutil import atomic_write_bytes
    from gitml.plots.page import html_page

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / INDEX
    atomic_write_bytes(target, html_page(title, sections).encode("utf-8"))
    return target
