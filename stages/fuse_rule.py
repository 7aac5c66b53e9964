"""fuse_rule@<rule>-<dataset>: data/fused/<rule>/<dataset>/<stem>.png for every stem of the split.

python -m stages.fuse_rule --rule max --dataset msrs --raw data/raw/msrs \
    --split data/splits/msrs.json --out data/fused/max/msrs

Rules: max | mean (luminance fusion, visible chroma), visible | infrared (source-only baselines).
Every stem of train, val and test is fused: downstream fine-tuning trains on the fused training split.
"""
from __future__ import annotations

import json

import click

from pipeline.data.registry import DATASETS
from pipeline.rules.names import RULE_NAMES

# A rule has no numbers: it depends on params.yaml only through its name, given on the command line.
PARAMS: list[str] = ["{profile}.threads"]


@click.command()
@click.option("--rule", required=True, type=click.Choice(RULE_NAMES))
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False), help="data/raw/<dataset>")
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(), help="data/fused/<rule>/<dataset>")
def main(rule: str, dataset: str, raw: str, split_file: str, out: str) -> None:
    from pipeline.params import load_params
    from pipeline.runtime import pin_threads

    threads = pin_threads(load_params())
    from pipeline.atomic import atomic_dir
    from pipeline.data.registry import get_dataset
    from pipeline.rules.registry import rule_fuser
    from pipeline.fuse.images import fuse_files, image_workers, split_pairs

    split = json.loads(open(split_file).read())
    pairs = split_pairs(get_dataset(dataset), raw, split)
    # the same loop as the fuse stage: images (read, fuse, PNG) on parallel workers
    with atomic_dir(out) as tmp:
        fuse_files(rule_fuser(rule), pairs, tmp, workers=image_workers(threads), threads=threads)
    click.echo(f"fuse_rule {rule} {dataset}: {len(pairs)} images")


if __name__ == "__main__":
    main()
