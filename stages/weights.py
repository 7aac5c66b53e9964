"""weights@segmenter-<dataset>, weights@detector: the checkpoint every downstream fine-tune starts from.

    python -m stages.weights --target segmenter --dataset fmb --raw data/raw/fmb \
        --split data/splits/fmb.json --out data/weights/segmenter-fmb
    python -m stages.weights --target detector --dataset m3fd --raw data/raw/m3fd \
        --split data/splits/m3fd.json --out data/weights/detector

`<profile>.weights.source` chooses where the weights come from:
official (SegMiF's released segmenter, converted; COCO's yolo11n.pt), local (your files at
`<profile>.weights.<target>.local`), synthetic (stand-ins trained once on the training split's
source images) or scratch (random init, an explicit choice). The folder holds weights.json
(the provenance that segment@ and detect@ record) and the weights.
"""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import layout
from pipeline.data.registry import DATASETS
from pipeline.layout import DETECTOR, SEGMENTER, TARGETS

PARAMS: list[str] = ["profile", "seed", "{profile}.threads", "{profile}.weights.source"]


def params_for(name: str, item: dict) -> list[str]:
    """Params a target reads: the segmenter's architecture is the segment stage's encoder."""
    keys = PARAMS + [f"{{profile}}.weights.{item['target']}"]
    return keys + (["{profile}.segment.encoder"] if item["target"] == SEGMENTER else [])


@click.command()
@click.option("--target", required=True, type=click.Choice(TARGETS))
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--work", type=click.Path(path_type=Path), default=Path(layout.work_dir("weights")), show_default=True)
@click.option("--downloads", type=click.Path(path_type=Path), default=Path(layout.DOWNLOADS), show_default=True)
@click.option("--base-url", envvar="SSVIF_WEIGHTS_BASE", default=None, help="mirror serving <URL>/<file name>")
def main(target, dataset, raw, split_file, out, work, downloads, base_url):
    from pipeline.params import ParamsError, load_params, profile_section
    from pipeline.runtime import pin_threads

    params = load_params()
    threads = pin_threads(params)
    source = profile_section(params, "weights.source")
    if (target == DETECTOR) != (DATASETS[dataset].task == "detection"):
        valid = [n for n, s in DATASETS.items() if (s.task == "detection") == (target == DETECTOR)]
        raise click.ClickException(f"--dataset {dataset}: a {target} starts from {' or '.join(valid)}; "
                                   f"pass --dataset {valid[0]} (as dvc.yaml does)")
    import json

    from pipeline.atomic import atomic_dir, atomic_write_json
    from pipeline.data.registry import get_dataset
    from pipeline.downstream import weights_build as ws
    from pipeline.downstream.starting_point import INFO, SOURCES
    from pipeline.downstream.weights_official import WeightsError

    if source not in SOURCES:
        raise ParamsError(f"params.yaml: {params['profile']}.weights.source={source!r}; valid values: "
                          f"{', '.join(SOURCES)}.")
    spec, split = get_dataset(dataset), json.loads(split_file.read_text())
    cfg = profile_section(params, f"weights.{target}")
    click.echo(f"weights {target}-{dataset}: source {source}; {threads} thread(s)")
    try:
        with atomic_dir(out) as tmp:
            if target == SEGMENTER:
                info = ws.segmenter(source, spec, raw, split, tmp, cfg, profile_section(params, "segment.encoder"),
                                    int(params["seed"]), work, downloads, base_url, log=click.echo)
            else:
                info = ws.detector(source, spec, raw, split, tmp, cfg, int(params["seed"]), work, downloads,
                                   base_url, log=click.echo)
            atomic_write_json(tmp / INFO, {**info, "threads": threads})
    except (WeightsError, FileNotFoundError, ValueError) as error:
        raise click.ClickException(f"weights {target}-{dataset} ({source}): {error}") from error
    click.echo(f"weights {target}-{dataset}: {source} -> {out}")


if __name__ == "__main__":
    main()
