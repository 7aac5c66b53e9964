"""Stage `sanity`: expectations true by construction of the synthetic data (reports/sanity.md, sanity.json).

python -m stages.sanity --metrics reports/metrics --out reports/sanity.md --json reports/metrics/sanity.json

On synthetic data a failed expectation is a bug (e.g. swapped sources) and stops the stage,
after both files are written so the report can be read; on official/local data it is informational.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline import layout

# `weighting`: the headline run trains with it, and the weighting comparison is named after it.
PARAMS = ["data.source", "runs", "methods", "weighting"]


def inputs(params: dict, metrics: str = layout.METRICS) -> list[str]:
    """The exact metric files and run histories the stage reads (the DAG generator's deps), derived from params."""
    from pipeline.report.sanity import required_files, required_histories

    return ([layout.in_metrics(rel, metrics) for rel in required_files(params)]
            + [layout.history_file(run) for run in required_histories(params)])


def _history(root: Path):
    """run -> its history.csv rows (text values) under the run reports folder, None when missing."""
    from pipeline.report.gradient import read_history

    def history(run: str) -> list[dict] | None:
        path = Path(layout.history_file(run, str(root)))
        return read_history(path.read_text()) if path.is_file() else None

    return history


def _reader(root: Path):
    cache: dict[str, dict | None] = {}

    def read(rel: str) -> dict | None:
        if rel not in cache:
            path = root / rel
            cache[rel] = json.loads(path.read_text()) if path.is_file() else None
        return cache[rel]

    return read


@click.command()
@click.option("--metrics", type=click.Path(path_type=Path), required=True, help="reports/metrics")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="sanity.md to write")
@click.option("--json", "json_out", type=click.Path(path_type=Path), required=True, help="sanity.json to write")
@click.option("--runs", type=click.Path(path_type=Path), default=Path(layout.RUN_REPORTS), show_default=True,
              help="the run reports folder (<run>/history.csv)")
def main(metrics, out, json_out, runs):
    from pipeline.atomic import atomic_write_json, atomic_write_text
    from pipeline.report.sanity import (condition_breakdown, describe, evaluate_expectations, render_markdown,
                                         sanity_json)
    from pipeline.params import get, load_params

    params = load_params()
    source, read = get(params, "data.source"), _reader(metrics)
    expectations = evaluate_expectations(params, read, _history(runs))
    atomic_write_text(out, render_markdown(expectations, condition_breakdown(params, read), source))
    atomic_write_json(json_out, sanity_json(expectations))
    failed = [e for e in expectations if e["asserted"] and e["passed"] is False]
    if failed and source == "synthetic":
        lines = [f"- {describe(e)}" for e in failed]
        raise click.ClickException(f"{len(failed)} sanity expectation(s) failed on synthetic data "
                                   f"(report: {out}):\n" + "\n".join(lines))
    click.echo(f"sanity: {len(expectations)} expectations, {len(failed)} failed ({source}); {out}, {json_out}")


if __name__ == "__main__":
    main()
