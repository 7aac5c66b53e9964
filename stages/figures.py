"""Stage `figures`: the paper's qualitative figures and the training curves as deterministic PNGs.

python -m stages.figures --data data --reports reports --out reports/figures/paper

What each figure shows is decided in pipeline/report/paper_figures.py; this stage reads params and writes.
"""
from __future__ import annotations

from pathlib import Path

import click

PARAMS = ["weighting", "runs", "methods"]


def inputs(params: dict) -> list[str]:
    """Every file or folder the stage reads (the DAG generator's deps), derived from params."""
    from pipeline.report.paper_figures import inputs as figure_inputs
    from pipeline.report.sources import Methods

    return figure_inputs(Methods.from_params(params))


@click.command()
@click.option("--data", type=click.Path(path_type=Path), required=True, help="data/ (raw, splits, fused, external)")
@click.option("--reports", type=click.Path(path_type=Path), required=True, help="reports/ (runs, figures)")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder of the figures")
def main(data, reports, out):
    from pipeline.params import load_params

    params = load_params()
    from pipeline.atomic import atomic_dir
    from pipeline.report.paper_figures import paper_figures
    from pipeline.report.sources import Methods

    try:
        pngs = paper_figures(Methods.from_params(params), data, reports)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    with atomic_dir(out) as tmp:
        for name, blob in pngs.items():
            (tmp / name).write_bytes(blob)
    click.echo(f"figures: {len(pngs)} PNGs in {out}")


if __name__ == "__main__":
    main()
