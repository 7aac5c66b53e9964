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
from pipeline.fusion_rule_names import RULE_NAMES

# A rule has no numbers: it depends on params.yaml only through its name, given on the command line.
PARAMS: list[str] = ["{profile}.threads"]


@click.command()
@click.option("--rule", required=True, type=click.Choice(RULE_NAMES))
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False), help="data/raw/<dataset>")
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(), help="data/fused/<rule>/<dataset>")
def main(rule: str, dataset: str, raw: str, split_file: str, out: str) -> None:
    from stages._params import load_params
    from stages._runtime import pin_threads

    pin_threads(load_params())
    import torch
    from tqdm import tqdm

    from pipeline.atomic import atomic_dir
    from pipeline.data.io import read_infrared, read_visible, write_png
    from pipeline.data.layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.fusion_rules import get_rule, to_uint8

    spec, fuse = get_dataset(dataset), get_rule(rule)
    split = json.loads(open(split_file).read())
    stems = [(part, stem) for part in ("train", "val", "test") for stem in split[part]]
    with atomic_dir(out) as tmp:
        for part, stem in tqdm(stems, desc=f"{rule} {dataset}", unit="img"):
            paths = pair_paths(spec, raw, stem, part)
            ir = torch.from_numpy(read_infrared(paths["ir"]).copy()).float().div(255)[None, None]
            vis = torch.from_numpy(read_visible(paths["vis"]).copy()).float().div(255).permute(2, 0, 1)[None]
            write_png(tmp / f"{stem}.png", to_uint8(fuse(ir, vis))[0].numpy())
    click.echo(f"fuse_rule {rule} {dataset}: {len(stems)} images")


if __name__ == "__main__":
    main()
