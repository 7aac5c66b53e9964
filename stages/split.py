"""split@<dataset>: data/splits/<dataset>.json, the stems of train/val/test.

python -m stages.split --dataset msrs --raw data/raw/msrs --out data/splits/msrs.json

MSRS/FMB keep the official test folder and cut the official train folder by `split.val_fraction`;
M3FD gets a seeded `split.m3fd_fractions` train/val/test split (rule in pipeline/data/splits.py).
"""
from __future__ import annotations

import click

from pipeline.data.registry import DATASETS

PARAMS = ["seed", "split"]


@click.command()
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(), help="data/raw/<dataset>")
@click.option("--out", required=True, type=click.Path(), help="data/splits/<dataset>.json")
def main(dataset: str, raw: str, out: str) -> None:
    from pipeline.params import get, load_params

    params = load_params()
    from pipeline.atomic import atomic_write_json
    from pipeline.data.registry import get_dataset
    from pipeline.data.splits import make_split
    from pipeline.data.validate import DatasetError, list_stems

    spec = get_dataset(dataset)
    try:
        stems = list_stems(spec, raw)  # fetch validated every file; pairing is re-checked here
    except DatasetError as error:
        raise click.ClickException(f"split {dataset} failed: {error}; rerun `dvc repro fetch@{dataset}` "
                                   f"to rebuild {raw}") from error
    split = make_split(spec, stems, int(params["seed"]), float(get(params, "split.val_fraction")),
                       tuple(get(params, "split.m3fd_fractions")))
    atomic_write_json(out, split)
    click.echo(f"split {dataset}: " + ", ".join(f"{k} {len(split[k])}" for k in ("train", "val", "test")))


if __name__ == "__main__":
    main()
