"""sensing@<dataset>: EMMA's pseudo-sensing networks A_i, A_v trained on a fusion result's training split.

    python -m stages.sensing --dataset fmb --raw data/raw/fmb --split data/splits/fmb.json \
        --fused data/fused/max/fmb --out data/sensing/fmb

`<profile>.sensing.variant`: learned (train A_i: fused -> infrared, A_v: fused -> visible Y, as
MMIF-EMMA's train_AiAv.py; the folder holds Ai.pth, Av.pth and sensing.json) or ideal (nothing is
trained: sensing.json alone, and original EMMA runs keep the ideal-sensor loss). An original EMMA
run with the learned variant reads the folder through `stages.train --sensing`.
`<profile>.sensing.source`: synthetic (a stand-in at the profile's sizes) or retrain (the same training,
recorded as the project's own A_i, A_v); official and local use EMMA's released pair instead
(stages.sensing_release, sensing@released: no training, no sensing@<dataset>).
"""
from __future__ import annotations

from pathlib import Path

import click

from pipeline.data.registry import DATASETS

PARAMS: list[str] = ["profile", "seed", "{profile}.threads", "{profile}.sensing"]


@click.command()
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--fused", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="the fusion result A_i and A_v learn to invert: <fused>/<stem>.png for every training stem")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def main(dataset: str, raw: Path, split_file: Path, fused: Path, out: Path) -> None:
    from pipeline.params import load_params, profile_section
    from pipeline.runtime import pin_threads

    params = load_params()
    threads = pin_threads(params)
    import json

    from pipeline.atomic import atomic_dir
    from pipeline.data.registry import get_dataset
    from pipeline.originals import sensing as sn
    from pipeline.train.determinism import deterministic_kernels

    try:
        block = profile_section(params, "sensing")
        cfg, source = sn.SensingConfig.from_params(block), sn.sensing_source(block)
    except (TypeError, ValueError) as error:
        raise click.ClickException(f"params.yaml {params['profile']}.sensing: {error}") from error
    if source in sn.RELEASED:
        raise click.ClickException(f"params.yaml: {params['profile']}.sensing.source={source!r} uses EMMA's released "
                                   "A_i, A_v (stages.sensing_release): sensing@<dataset> trains only with synthetic "
                                   "or retrain (run `python -m stages.dag`).")
    split = json.loads(split_file.read_text())
    if split.get("dataset") != dataset:
        raise click.ClickException(f"{split_file} is the split of {split.get('dataset')!r}, not of {dataset!r}")
    seed = int(params["seed"])
    info = {"variant": cfg.variant, "dataset": dataset, "seed": seed, "threads": threads,
            "settings": sn.settings_record(cfg), "fusion_result": fused.as_posix(), "upstream": sn.UPSTREAM}
    if source == "retrain":  # the project's own A_i, A_v; synthetic keeps the record of before
        info["source"] = source
    a_i = a_v = None
    if cfg.variant == "learned":
        deterministic_kernels()
        try:
            pairs = sn.load_pairs(get_dataset(dataset), raw, split["train"], fused)
            a_i, a_v, summary = sn.train_sensing(pairs, cfg, seed, log=lambda line: click.echo(f"sensing {dataset}: {line}"))
        except (FileNotFoundError, ValueError) as error:
            raise click.ClickException(f"sensing {dataset}: {error}") from error
        info.update(training=summary, images=len(pairs))
    with atomic_dir(out) as tmp:
        sn.save_sensing(tmp, a_i, a_v, info)
    click.echo(f"sensing {dataset}: {cfg.variant} -> {out}")


if __name__ == "__main__":
    main()
