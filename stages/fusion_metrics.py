"""fusion_metrics@<method>-<dataset>: reports/metrics/fusion/<method>-<dataset>.{json,csv}.

python -m stages.fusion_metrics --method max --dataset msrs --raw data/raw/msrs \
    --split data/splits/msrs.json --fused data/fused/max/msrs \
    --out reports/metrics/fusion/max-msrs.json --per-image reports/metrics/fusion/max-msrs.csv

Scores the TEST split only (EN, MI, MI_nats, VIF, Qabf, SSIM, SSIM_L255, MSS, MSS_L255, dE,
docs/metrics.md); the JSON holds the means, `count` and `nan_counts`. Not run for M3FD.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline import layout

from pipeline.params import RUN_DATASETS

# The metric definitions are fixed by the reference, not tuned: only the thread count.
PARAMS: list[str] = ["{profile}.threads"]


@click.command()
@click.option("--method", required=True, help="run, rule or external method name (for messages)")
@click.option("--dataset", required=True, type=click.Choice(RUN_DATASETS))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False), help="data/raw/<dataset>")
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--fused", required=True, type=click.Path(exists=True, file_okay=False), help="data/fused/<method>/<dataset>")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="mean JSON")
@click.option("--per-image", required=True, type=click.Path(dir_okay=False), help="per-image CSV")
def main(method, dataset, raw, split_file, fused, out, per_image) -> None:
    from pipeline.params import load_params
    from pipeline.runtime import pin_threads

    threads = pin_threads(load_params())
    from pipeline.atomic import atomic_write_json, atomic_write_text
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.metrics.names import REPORTED
    from pipeline.metrics.protocol import ImageError
    from pipeline.metrics.scoring import Triple, rows_to_csv, score_triples, summarise

    spec = get_dataset(dataset)
    stems = json.loads(Path(split_file).read_text())["test"]
    triples = []
    for stem in stems:
        paths = pair_paths(spec, raw, stem, "test")
        triples.append(Triple(stem, layout.stem_image(fused, stem), paths["ir"], paths["vis"]))
    missing = [str(t.fused) for t in triples if not t.fused.is_file()]
    if missing:
        raise click.ClickException(f"fusion_metrics {method} {dataset}: {len(missing)} fused test images missing, "
                                   f"e.g. {missing[0]}; run the fusion stage for {method!r} first.")
    try:
        rows = score_triples(triples, workers=threads)  # one image per pinned thread (same values for any count)
    except (ImageError, ValueError) as error:
        raise click.ClickException(f"fusion_metrics {method} {dataset} failed: {error}") from error
    atomic_write_text(per_image, rows_to_csv(rows))
    summary = summarise(rows)
    atomic_write_json(out, {**summary, "threads": threads})
    click.echo(f"fusion_metrics {method} {dataset}: {summary['count']} images, "
               + ", ".join(f"{k} {summary[k]}" for k in REPORTED))


if __name__ == "__main__":
    main()
