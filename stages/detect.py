"""Stage `detect@<method>`: retrain YOLO11n on a method's fused M3FD images, score AP@0.5, fully offline.

    python -m stages.detect --method M --fused data/fused/M/m3fd --raw data/raw/m3fd \
        --split data/splits/m3fd.json --init data/weights/detector --conditions data/conditions/m3fd.json \
        --out reports/metrics/detect/M.json --predictions reports/figures/detect/M --work data/work/detect

Starts from the weights in --init (weights@detector), trains on the train split, validates on val,
scores the test split of the seeded 8:1:1 split, overall and per imaging condition. Ultralytics
runs offline with its settings under <work>/ultralytics; the run resumes from
<work>/<M>-m3fd-<digest>/ after an interruption.

With params `<profile>.gpus: N` > 1 on a CUDA machine, training gets the device list "0,...,N-1"
and Ultralytics runs its own DDP over those GPUs; on the CPU, and with N = 1, nothing changes.
"""
from __future__ import annotations

import click

from pipeline import layout

PARAMS: list[str] = ["profile", "seed", "{profile}.threads", "{profile}.gpus", "{profile}.detect"]
N_PREDICTIONS = 4  # test images drawn for the qualitative figure (the first stems, sorted)


@click.command()
@click.option("--method", required=True)
@click.option("--fused", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--init", "init_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="data/weights/detector: the starting point")
@click.option("--conditions", "conditions_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="data/conditions/m3fd.json")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--predictions", required=True, type=click.Path(file_okay=False))
@click.option("--work", "work_root", required=True, type=click.Path(file_okay=False), help="data/work/detect")
def main(method, fused, raw, split_file, init_dir, conditions_file, out, predictions, work_root):
    import json
    from pathlib import Path

    from pipeline.seeds import split_seeded
    from pipeline.params import get, load_params, profile_section
    from pipeline.runtime import gpus as checked_gpus, pin_threads

    params = load_params()
    threads = pin_threads(params)
    from pipeline.downstream.yolo_offline import amp_check_weights, configure_offline

    # Before anything imports Ultralytics. One settings folder per method: paired detect stages run
    # two methods at once (stages.together), and Ultralytics rewrites its settings file on start.
    configure_offline(Path(work_root) / "ultralytics" / method)
    import torch

    from pipeline.atomic import atomic_dir, atomic_write_json
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS
    from pipeline.downstream import yolo_detect as yd
    from pipeline.data.conditions import group_by_condition
    from pipeline.downstream.seg_outputs import round_floats
    from pipeline.downstream.starting_point import detector_init, read_info, summary
    from pipeline.downstream.workdir import config_digest, files_digest, work_dir

    det, seed = profile_section(params, "detect"), split_seeded(method, get(params, "seed"))[1]
    gpus = checked_gpus(params)  # Ultralytics runs its own DDP over the device list
    spec = DATASETS["m3fd"]
    stems = json.loads(Path(split_file).read_text())
    items = {}
    for part in ("train", "val", "test"):
        items[part] = [(s, layout.stem_image(fused, s), pair_paths(spec, Path(raw), s, part)["annotation"]) for s in stems[part]]
        missing = [str(p) for _, p, _ in items[part] if not p.exists()]
        if missing:
            raise click.ClickException(f"{len(missing)} fused M3FD images of the {part} split are missing, e.g. "
                                       f"{missing[:3]}: run the method's fuse stage on every M3FD stem.")
    init = summary(read_info(init_dir))
    cfg = yd.DetectConfig(epochs=det["epochs"], imgsz=det["imgsz"], batch=det["batch"], init=detector_init(init_dir),
                          workers=det["workers"], seed=seed, extra=dict(det.get("extra") or {}))
    inputs = files_digest([p for rows in items.values() for _, image, xml in rows for p in (image, xml)]
                          + ([Path(cfg.init)] if Path(cfg.init).is_file() else []))
    device = "0" if torch.cuda.is_available() else "cpu"
    training_device = yd.train_device(device, gpus)
    # Keyed only when several GPUs train: a default run keeps the work directory it had before.
    keyed = {"gpus": gpus} if training_device != device else {}
    work = work_dir(work_root, f"{method}-m3fd", config_digest({"detect": det, "seed": seed, **keyed}, inputs))
    # Ultralytics' AMP check loads yolo26n.pt: AMP only on CUDA with those weights present locally.
    amp = device != "cpu" and amp_check_weights().is_file()
    click.echo(f"detect: {method}: {', '.join(f'{k} {len(v)}' for k, v in items.items())}; init {cfg.init}; "
               f"device {training_device}; amp {amp}; work {work}")

    conditions = json.loads(Path(conditions_file).read_text())["conditions"]
    by_stem = {row[0]: row for row in items["test"]}
    subsets = {f"test_{c}": [by_stem[s] for s in group]
               for c, group in group_by_condition(stems["test"], conditions).items()}
    data_yaml = yd.build_yolo_dataset(work / "dataset", {**items, **subsets}, spec.classes)
    best = yd.train(data_yaml, work, cfg, training_device, amp, log=click.echo)
    scores = yd.evaluate(best, data_yaml, work, cfg, device, spec.classes)
    scores["by_condition"] = {name.removeprefix("test_"): {"images": len(rows), **yd.evaluate(
        best, data_yaml, work, cfg, device, spec.classes, split=name)} for name, rows in subsets.items()}
    atomic_write_json(out, {**round_floats(scores), "method": method, "init": init, "amp": amp, "threads": threads,
                            "epochs": cfg.epochs, "imgsz": cfg.imgsz, "test_images": len(stems["test"]), **keyed})
    drawn = yd.draw_predictions(best, [image for _, image, _ in items["test"][:N_PREDICTIONS]], cfg, device, spec.classes)
    with atomic_dir(predictions) as tmp:
        for stem, png in drawn.items():
            layout.stem_image(tmp, stem).write_bytes(png)
    click.echo(f"detect: {method}: test mAP@0.5 {scores['mAP50'] or 0:.2f} % -> {out}")


if __name__ == "__main__":
    main()
