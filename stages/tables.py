"""Stage `tables`: Tables I-IX (md, csv, tex) beside the paper, headline.json, gradient.json, README.

python -m stages.tables --metrics reports/metrics --runs reports/runs --out reports/tables \
    --headline reports/metrics/headline.json --gradient reports/metrics/gradient.json \
    --readme reports/README.md --m3fd-split data/splits/m3fd.json --figures reports/figures/paper
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from pipeline import layout

PARAMS = ["profile", "weighting", "data.source", "runs", "methods", "report", "{profile}.originals.source"]
FORMATS = ("md", "csv", "tex")


def _methods(params: dict):
    from pipeline.report.sources import Methods

    return Methods.from_params(params)


def inputs(params: dict, metrics: str = layout.METRICS, runs: str = layout.RUN_REPORTS) -> list[str]:
    """Every metric and history file the stage reads (the DAG generator's deps), derived from params."""
    from pipeline.report.headline import headline_files
    from pipeline.report.sources import required_files, start_files

    methods = _methods(params)
    files = {layout.in_metrics(rel, metrics) for rel in required_files(methods) + headline_files(methods)
             + list(start_files(methods).values())}
    from pipeline.report.seed_stats import seeded_inputs
    from pipeline.report.spec import TABLES
    from pipeline.report.sources import table_cells

    cells = [(rel, method) for spec in TABLES for *_, method, rel in table_cells(spec, methods)]
    files |= {layout.in_metrics(rel, metrics) for rel in seeded_inputs(cells, params)}  # further seeds' files
    headline = methods.fmb_headline()
    if headline is not None:
        files.add(layout.history_file(headline, runs))
    return sorted(files)


@click.command()
@click.option("--metrics", type=click.Path(path_type=Path), required=True, help="reports/metrics")
@click.option("--runs", type=click.Path(path_type=Path), required=True, help="reports/runs (history.csv per run)")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder for table{1..9}.{md,csv,tex}")
@click.option("--headline", type=click.Path(path_type=Path), required=True, help="headline.json to write")
@click.option("--gradient", type=click.Path(path_type=Path), required=True, help="gradient.json to write")
@click.option("--readme", type=click.Path(path_type=Path), required=True, help="README.md to write")
@click.option("--m3fd-split", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="data/splits/m3fd.json: the README names its method and near-duplicate count")
@click.option("--figures", type=click.Path(path_type=Path), default=Path(layout.PAPER_FIGURES),
              show_default=True, help="where the figures stage writes (only linked from the README)")
def main(metrics, runs, out, headline, gradient, readme, m3fd_split, figures):
    from pipeline.params import get, load_params, params_path, project_root

    params = load_params()
    from pipeline.atomic import atomic_write_json, atomic_write_text
    from pipeline.report.build import build_table
    from pipeline.report.figure_list import FIGURES
    from pipeline.report.gradient import gradient_summary, read_history
    from pipeline.report.headline import headline_metrics
    from pipeline.report.published import published_alpha_cf
    from pipeline.report.readme import code_digest, file_digest, render_readme
    from pipeline.report.render_csv import render_csv
    from pipeline.report.render_md import render_md
    from pipeline.report.render_tex import render_tex
    from pipeline.report.sources import MetricStore, start_files
    from pipeline.report.spec import TABLES

    from pipeline.report.seed_stats import seed_store

    methods, store = _methods(params), seed_store(MetricStore(metrics), params)  # mean ± std over params seeds
    tolerance = float(get(params, "report.tolerance"))
    renderers = {"md": render_md, "csv": render_csv, "tex": render_tex}
    tables = [build_table(spec, methods, store, tolerance) for spec in TABLES]
    for table in tables:
        for fmt in FORMATS:
            atomic_write_text(layout.table_file(table.spec.id, fmt, out), renderers[fmt](table))
    atomic_write_json(headline, headline_metrics(methods, store))

    summary = None
    run = methods.fmb_headline()
    if run is not None:
        history = Path(layout.history_file(run, runs))
        if not history.is_file():
            raise click.ClickException(f"{history} is missing: the train stage of run {run} writes it")
        summary = gradient_summary(read_history(history.read_text()), run)
    atomic_write_json(gradient, summary or {"run": None, "alpha_cf_published": published_alpha_cf()})

    split = None
    if m3fd_split is not None:
        if not m3fd_split.is_file():
            raise click.ClickException(f"{m3fd_split} is missing: `dvc repro split@m3fd` writes it")
        split = json.loads(m3fd_split.read_text())
    # Which weights the downstream models started from, as the `visible` baseline's scores record it.
    starts = {name: store.load(rel).get("init") for name, rel in start_files(methods).items()}
    base = readme.parent
    rel = lambda p: Path(os.path.relpath(p, base)).as_posix()  # noqa: E731
    table_links = {t.spec.id: [rel(layout.table_file(t.spec.id, fmt, out)) for fmt in FORMATS] for t in tables}
    text = render_readme(
        profile=params["profile"], source=get(params, "data.source"), weighting=params["weighting"],
        code_sha=code_digest(project_root()), params_sha=file_digest(params_path()),
        tables=tables, table_links=table_links, figure_links=[(rel(figures / n), c) for n, c in FIGURES],
        gradient=summary, tolerance=tolerance, starts=starts, sanity_link=rel(layout.SANITY),
        originals=get(params, f"{params['profile']}.originals.source"), protocol_link=rel(layout.PROTOCOL),
        m3fd_split=split)
    atomic_write_text(readme, text)
    click.echo(f"tables: {len(tables)} x {len(FORMATS)} formats in {out}; headline in {headline}; README {readme}")


if __name__ == "__main__":
    main()
