"""fuse@<run>: fuse every stem of the split file (train, val, test) at full resolution -> 8-bit RGB PNG.

python -m stages.fuse --run NAME [--dataset <ds>] --model data/runs/NAME/model.pt --raw data/raw/<ds>
    --split data/splits/<ds>.json --out data/fused/NAME/<ds>

--dataset defaults to the run's training dataset; `--dataset m3fd` writes the fused M3FD
images that detection retrains on (a separate DVC stage, fuse@<run>-m3fd, so each is cached alone).
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.data.registry import DATASETS

def params_for(run_name: str, run: dict) -> list[str]:
    """Fusing reads only the run's entry (everything else is in model.pt) and the thread count."""
    return [f"runs.{run_name}", "{profile}.threads"]


def _fuse_dataset(model, channels, dataset: str, raw: Path, split: Path, out: Path, log,
                  threads: int | None = None) -> None:
    from pipeline.atomic import atomic_dir
    from pipeline.data.registry import get_dataset
    from pipeline.fuse.images import fuse_files, image_workers, model_fuser, split_pairs

    doc = json.loads(split.read_text())
    if doc.get("dataset") != dataset:
        raise click.ClickException(f"{split} is the split of {doc.get('dataset')!r}, not of {dataset!r}: "
                                   f"pass the split file of {dataset!r} with --split (as dvc.yaml does)")
    pairs = split_pairs(get_dataset(dataset), raw, doc)
    # images on parallel workers, each with the pinned thread count: the bytes do not depend on it
    import torch

    threads = threads or torch.get_num_threads()
    workers = image_workers(threads, next(model.parameters()).device)
    log(f"{len(pairs)} images, {workers} at a time")
    with atomic_dir(out) as tmp:
        fuse_files(model_fuser(model, channels), pairs, tmp, workers=workers, threads=threads, log=log)


@click.command()
@click.option("--run", "run_name", required=True)
@click.option("--dataset", type=click.Choice(list(DATASETS)), default=None,
              help="dataset to fuse (default: the run's training dataset)")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--raw", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--split", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def main(run_name, dataset, model_path, raw, split, out) -> None:

    from pipeline.params import get, load_params
    from pipeline.runtime import pin_threads

    params = load_params()
    threads = pin_threads(params)
    from pipeline.train.determinism import deterministic_kernels
    from pipeline.models.model_file import load_fusion_checkpoint

    from pipeline.seeds import split_seeded

    run = get(params, f"runs.{split_seeded(run_name, params['seed'])[0]}")  # <run>-s<seed>: that seed's model
    click.echo(f"[fuse {run_name}] {threads} thread(s)", err=True)
    deterministic_kernels()
    model, channels = load_fusion_checkpoint(model_path)

    def log(line):
        click.echo(f"[fuse {run_name}] {line}", err=True)

    _fuse_dataset(model, channels, dataset or run["dataset"], raw, split, out, log, threads)


if __name__ == "__main__":
    main()
