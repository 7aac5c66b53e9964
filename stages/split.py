"""split@<dataset>: data/splits/<dataset>.json, the stems of train/val/test.

python -m stages.split --dataset msrs --raw data/raw/msrs --out data/splits/msrs.json

MSRS/FMB keep the official test folder and cut the official train folder by `split.val_fraction`;
M3FD gets a seeded `split.m3fd_fractions` train/val/test split by `m3fd_split.method`: `random` per
frame (rule in pipeline/data/splits.py) or `grouped` by sequence (pipeline/data/grouped_split.py), and
its file records the method and how many val/test frames have a near-duplicate in train.
"""
from __future__ import annotations

import importlib

import click

from pipeline.data.registry import DATASETS

PARAMS = ["seed", "split"]
# M3FD's own params and code: imported by name so that split@msrs and split@fmb neither read nor
# depend on them (pipeline/dag/build.py adds them to split@m3fd alone).
M3FD_PARAMS = ["m3fd_split"]
M3FD_MODULE = "pipeline.data.grouped_split"


def params_for(dataset: str) -> list[str]:
    """The params keys split@<dataset> reads beyond PARAMS."""
    return M3FD_PARAMS if dataset == "m3fd" else []


def modules_for(dataset: str) -> list[str]:
    """The project modules split@<dataset> imports by name (its extra code deps)."""
    return [M3FD_MODULE] if dataset == "m3fd" else []


@click.command()
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(), help="data/raw/<dataset>")
@click.option("--out", required=True, type=click.Path(), help="data/splits/<dataset>.json")
def main(dataset: str, raw: str, out: str) -> None:
    from pipeline.params import ParamsError, get, load_params

    params = load_params()
    from pipeline.atomic import atomic_write_json
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.data.splits import make_split
    from pipeline.data.validate import DatasetError, list_stems

    spec = get_dataset(dataset)
    m3fd = bool(params_for(dataset))
    if m3fd:  # validated before any work: the key and the valid values
        grouped = importlib.import_module(M3FD_MODULE)
        try:
            method = grouped.check_method(get(params, "m3fd_split.method"))
        except ValueError as error:
            raise ParamsError(f"params.yaml: {error}. Fix it in params.yaml or with "
                              "`dvc exp run -S m3fd_split.method=<value>`.") from error
    try:
        stems = list_stems(spec, raw)  # fetch validated every file; pairing is re-checked here
    except DatasetError as error:
        raise click.ClickException(f"split {dataset} failed: {error}; rerun `dvc repro fetch@{dataset}` "
                                   f"to rebuild {raw}") from error
    seed, fractions = int(params["seed"]), tuple(get(params, "split.m3fd_fractions"))
    if m3fd:
        # M3FD keeps every frame in one folder group, whatever split a frame will land in
        paths = {s: pair_paths(spec, raw, s, "train")["vis"] for s in stems["all"]}
        split = grouped.m3fd_split(spec, stems["all"], grouped.read_thumbnails(paths), seed, fractions, method)
    else:
        split = make_split(spec, stems, seed, float(get(params, "split.val_fraction")), fractions)
    atomic_write_json(out, split)
    line = f"split {dataset}: " + ", ".join(f"{k} {len(split[k])}" for k in ("train", "val", "test"))
    if m3fd:
        near = split["near_duplicates"]
        line += (f"; method {split['method']}; near-duplicates in train: val {near['val_in_train']}, "
                 f"test {near['test_in_train']}")
    click.echo(line)

if __name__ == "__main__":
    main()
