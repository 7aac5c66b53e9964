"""Stage `segment@<method>-<dataset>`: fine-tune SegMiF's SegFormer on a method's fused images, score mIoU.

    python -m stages.segment --method M --dataset fmb --fused data/fused/M/fmb --raw data/raw/fmb \
        --split data/splits/fmb.json --init data/weights/segmenter-fmb --conditions data/conditions/fmb.json \
        --out reports/metrics/segment/M-fmb.json --predictions reports/figures/segment/M-fmb \
        --work data/work/segment

Starts from the weights in --init (weights@segmenter-<dataset>), trains on the fused training split
with the dataset's labels, selects on the validation split, scores the test split, overall and per
imaging condition (--conditions). Also writes the confusion matrix beside --out (``-confusion.csv``
and ``-confusion.png``, or the paths given). Resumes from <work>/<M>-<d>-<digest>/.

With params `<profile>.gpus: N` > 1 the command starts itself again as N processes under torchrun
(`python -m torch.distributed.run --standalone --nproc_per_node N -m stages.segment ...`, which
can also be run by hand): DDP, one GPU per process (NCCL; gloo processes on a CPU-only machine);
rank 0 alone scores the test split and writes. `<profile>.segment.bf16: true` trains under bf16
autocast on CUDA (a no-op on the CPU). Both change the numbers, so both are off by default.
"""
from __future__ import annotations

import click

from pipeline import layout

from pipeline.params import RUN_DATASETS

PARAMS: list[str] = ["profile", "seed", "{profile}.threads", "{profile}.gpus", "{profile}.segment"]
N_PREDICTIONS = 4  # test images rendered for the qualitative figure (the first stems, sorted)


@click.command()
@click.option("--method", required=True)
@click.option("--dataset", required=True, type=click.Choice(RUN_DATASETS))
@click.option("--fused", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--raw", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--split", "split_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--init", "init_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="data/weights/segmenter-<dataset>: the starting point")
@click.option("--conditions", "conditions_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="data/conditions/<dataset>.json")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--predictions", required=True, type=click.Path(file_okay=False))
@click.option("--confusion-csv", required=True, type=click.Path(dir_okay=False), help="the test confusion matrix (csv)")
@click.option("--confusion-png", required=True, type=click.Path(dir_okay=False), help="the same, row-normalised (png)")
@click.option("--work", "work_root", required=True, type=click.Path(file_okay=False), help="data/work/segment")
def main(method, dataset, fused, raw, split_file, init_dir, conditions_file, out, predictions, confusion_csv,
         confusion_png, work_root):
    import json
    from pathlib import Path

    from pipeline.seeds import split_seeded
    from pipeline.params import get, load_params, profile_section
    from pipeline.runtime import pin_threads, processes

    params = load_params()
    threads = pin_threads(params)
    import torch

    from pipeline import distributed as dist

    ddp = processes(params, "stages.segment")  # gpus > 1: this command again as that many torchrun processes
    echo = click.echo if dist.is_writer() else (lambda *_: None)

    from pipeline.atomic import atomic_dir, atomic_write_bytes, atomic_write_json, atomic_write_text
    from pipeline.data.io import read_label
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS
    from pipeline.downstream import seg_outputs as so
    from pipeline.downstream.seg_data import SegmentationSamples
    from pipeline.downstream.seg_finetune import FinetuneConfig, confusion, finetune
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter, load_local_checkpoint
    from pipeline.downstream.starting_point import read_info, segmenter_folder, summary
    from pipeline.downstream.workdir import config_digest, files_digest, work_dir
    from pipeline.metrics.segmentation import iou_report

    seg, seed = profile_section(params, "segment"), split_seeded(method, get(params, "seed"))[1]
    spec = DATASETS[dataset]
    stems = json.loads(Path(split_file).read_text())
    pairs = {}
    for part in ("train", "val", "test"):
        pairs[part] = [(layout.stem_image(fused, s), pair_paths(spec, Path(raw), s, part)["label"]) for s in stems[part]]
        missing = [str(p) for p, _ in pairs[part] if not p.exists()]
        if missing:
            raise click.ClickException(f"{len(missing)} fused images of the {part} split are missing, e.g. "
                                       f"{missing[:3]}: run the method's fuse stage for every split.")
    cfg = FinetuneConfig(epochs=seg["epochs"], freeze_epochs=seg["freeze_epochs"], batch=seg["batch"], lr=seg["lr"],
                         lr_unfrozen=seg["lr_unfrozen"], patience=seg["patience"], crop=seg["crop"], seed=seed,
                         class_balanced=bool(seg.get("class_balanced", False)))
    start = segmenter_folder(init_dir)
    init = summary(read_info(init_dir))
    init_files = sorted(start.glob("*")) if start else []
    inputs = files_digest([p for part in ("train", "val", "test") for pair in pairs[part] for p in pair] + init_files)
    bf16 = bool(seg.get("bf16", False))
    # Off by default, so keyed only when on: a default run keeps the work directory it had before.
    keyed = {**({"bf16": True} if bf16 else {}), **({"world_size": ddp.world_size} if ddp.distributed else {})}
    digest = config_digest({"segment": {k: v for k, v in seg.items() if k != "bf16"}, "seed": seed,
                            "dataset": dataset, **keyed}, inputs)
    work = work_dir(work_root, f"{method}-{dataset}", digest)
    echo(f"segment: {method} on {dataset}: {', '.join(f'{k} {len(v)}' for k, v in pairs.items())}; work {work}")

    torch.manual_seed(seed)
    device = dist.device_for(ddp) if ddp.distributed else "cuda" if torch.cuda.is_available() else "cpu"
    model = FusedImageSegmenter(spec.num_classes, **seg["encoder"])
    if start is not None:
        loaded = load_local_checkpoint(model, start)
        echo(f"segment: initialised from {init_dir} ({init['source']}): {loaded['loaded']} tensors, "
             f"{len(loaded['skipped'])} skipped")
    model.to(device)
    samples = {k: SegmentationSamples(v, read_label, spec.num_classes) for k, v in pairs.items()}
    best_state, history = finetune(model, samples["train"], samples["val"], spec.classes, cfg, work, log=echo,
                                   bf16=bf16)
    if not dist.is_writer():  # rank 0 scores the test split and writes
        return
    model.load_state_dict(best_state)

    shown = {}
    conditions = json.loads(Path(conditions_file).read_text())["conditions"]
    matrix, by_condition = confusion(
        model, samples["test"], spec.num_classes,
        lambda i, pred: shown.setdefault(stems["test"][i], pred) if i < N_PREDICTIONS else None,
        groups=[conditions.get(s) for s in stems["test"]])
    report = iou_report(matrix, list(spec.classes))
    report["by_condition"] = {c: {"images": sum(conditions.get(s) == c for s in stems["test"]),
                                  **iou_report(m, list(spec.classes))} for c, m in sorted(by_condition.items())}
    best_epoch = max(history, key=lambda h: (h["val_mIoU"], -h["epoch"]))["epoch"]
    atomic_write_json(out, {**so.round_floats(report), "method": method, "dataset": dataset, "init": init, "threads": threads,
                            "test_images": len(stems["test"]), "epochs_trained": len(history),
                            "best_epoch": best_epoch, "history": history, **keyed})
    atomic_write_text(confusion_csv, so.confusion_csv(matrix, spec.classes))
    atomic_write_bytes(confusion_png,
                       so.confusion_png(matrix, spec.classes, f"{method} on {dataset} (test, row-normalised)"))
    with atomic_dir(predictions) as tmp:
        for name, pred in shown.items():
            layout.stem_image(tmp, name).write_bytes(so.palette_png(pred, spec.palette))
    click.echo(f"segment: {method} on {dataset}: test mIoU {report['mIoU']:.2f} % -> {out}")


if __name__ == "__main__":
    main()
