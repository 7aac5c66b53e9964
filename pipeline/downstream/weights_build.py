"""Where a downstream starting point comes from: official, local, synthetic stand-in or scratch.

Each function fills ``out`` (a folder the caller places atomically) and returns the provenance
that goes into ``weights.json``. ``cfg`` is the params block ``<profile>.weights.<target>``:
``local`` (a path) and ``standin`` (the stand-in's training recipe).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.data.registry import DatasetSpec
from pipeline.downstream import weights_standin
from pipeline.layout import DETECTOR_FILE

MIT_B3_HEADS, MIT_SR_RATIOS = (1, 2, 5, 8), (8, 4, 2, 1)


def segmenter(source: str, spec: DatasetSpec, raw: Path, split: dict, out: Path, cfg: dict, encoder: dict,
              seed: int, work: Path, downloads: Path, base_url: str | None, log: Callable[[str], None]) -> dict:
    """Fill ``out`` with a transformers SegFormer folder for ``spec``'s classes; return its provenance."""
    from pipeline.downstream.weights_local import prepare_local_segmenter

    heads = tuple(encoder["num_attention_heads"])
    if source == "scratch":
        return {"source": "scratch", "kind": "random init (transformers' SegFormer initialisation)"}
    if source == "synthetic":
        return _segmenter_standin(spec, raw, split, out, cfg["standin"], encoder, seed, work, log)
    if source == "official":
        from pipeline.downstream.weights_official import fetch_official_segmenter

        fetched = fetch_official_segmenter(downloads, work / f"segmif-{spec.name}", spec.num_classes, heads,
                                           MIT_SR_RATIOS, base_url=base_url, log=log)
        checked = prepare_local_segmenter(work / f"segmif-{spec.name}", out, spec.num_classes, encoder, heads,
                                          MIT_SR_RATIOS)
        return {**fetched, "kind": "SegMiF's released segmenter", "reinitialised": checked["reinitialised"]}
    info = prepare_local_segmenter(cfg.get("local", ""), out, spec.num_classes, encoder, heads, MIT_SR_RATIOS)
    return info


def detector(source: str, spec: DatasetSpec, raw: Path, split: dict, out: Path, cfg: dict, seed: int,
             work: Path, downloads: Path, base_url: str | None, log: Callable[[str], None]) -> dict:
    """Fill ``out`` with ``yolo11n.pt`` (nothing for scratch); return its provenance."""
    from pipeline.downstream.yolo_offline import configure_offline

    configure_offline(work / "ultralytics")
    if source == "scratch":
        return {"source": "scratch", "kind": "yolo11n.yaml (random init)"}
    if source == "synthetic":
        return _detector_standin(spec, raw, split, out, cfg["standin"], seed, work, log)
    if source == "official":
        from pipeline.downstream.weights_official import fetch_official_detector

        url = f"{base_url.rstrip('/')}/{DETECTOR_FILE}" if base_url else None
        info = fetch_official_detector(downloads, out / DETECTOR_FILE, **({"url": url} if url else {}), log=log)
        return {**info, "file": DETECTOR_FILE, "kind": "COCO-pretrained yolo11n.pt (Ultralytics assets)"}
    from pipeline.downstream.weights_local import prepare_local_detector

    info = prepare_local_detector(cfg.get("local", ""), out / DETECTOR_FILE)
    return {**info, "file": DETECTOR_FILE}


def _segmenter_standin(spec, raw, split, out, recipe, encoder, seed, work, log) -> dict:
    import torch

    from pipeline.data.io import read_label
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter
    from pipeline.downstream.seg_data import SegmentationSamples
    from pipeline.downstream.seg_finetune import FinetuneConfig, finetune
    from pipeline.downstream.workdir import config_digest, files_digest, work_dir

    pairs = {p: weights_standin.source_pairs(spec, raw, split[p], p) for p in ("train", "val")}
    cfg = FinetuneConfig(epochs=recipe["epochs"], freeze_epochs=0, batch=recipe["batch"], lr=recipe["lr"],
                         lr_unfrozen=recipe["lr"], patience=recipe["patience"], crop=recipe["crop"], seed=seed,
                         class_balanced=bool(recipe.get("class_balanced", False)))
    inputs = files_digest(p for part in pairs.values() for pair in part for p in pair)
    run = work_dir(work, f"segmenter-{spec.name}", config_digest({"recipe": recipe, "encoder": encoder,
                                                                 "seed": seed}, inputs))
    torch.manual_seed(seed)
    model = FusedImageSegmenter(spec.num_classes, **encoder)
    samples = {p: SegmentationSamples(v, read_label, spec.num_classes) for p, v in pairs.items()}
    log(f"stand-in segmenter on {spec.name}: {len(pairs['train'])} training and {len(pairs['val'])} validation "
        f"source images (visible + infrared); work {run}")
    best, history = finetune(model, samples["train"], samples["val"], spec.classes, cfg, run,
                             log=lambda line: log(line.replace("segment:", "stand-in:", 1)))
    model.load_state_dict(best)
    model.segformer.save_pretrained(out)
    best_epoch = max(history, key=lambda h: (h["val_mIoU"], -h["epoch"]))
    return {"source": "synthetic", "kind": "stand-in SegFormer trained on source images",
            "trained_on": f"{spec.name} train split, visible + infrared ({len(pairs['train'])} images)",
            "best_epoch": best_epoch["epoch"], "val_mIoU": best_epoch["val_mIoU"], "history": history}


def _detector_standin(spec, raw, split, out, recipe, seed, work, log) -> dict:
    import torch

    from pipeline.atomic import atomic_write_bytes
    from pipeline.data.download import file_digest
    from pipeline.downstream import yolo_detect as yd
    from pipeline.downstream.seg_outputs import round_floats
    from pipeline.downstream.workdir import config_digest, files_digest, work_dir

    items = {p: weights_standin.source_boxes(spec, raw, split[p], p) for p in ("train", "val", "test")}
    inputs = files_digest(p for rows in items.values() for _, image, xml in rows for p in (image, xml))
    run = work_dir(work, f"detector-{spec.name}", config_digest({"recipe": recipe, "seed": seed}, inputs))
    cfg = yd.DetectConfig(epochs=recipe["epochs"], imgsz=recipe["imgsz"], batch=recipe["batch"],
                          init="yolo11n.yaml", workers=0, seed=seed, extra=dict(recipe.get("extra") or {}))
    log(f"stand-in detector: YOLO11n from scratch on {len(items['train'])} source images (visible + infrared); "
        f"work {run}")
    data_yaml = yd.build_yolo_dataset(run / "dataset", items, spec.classes)
    device = "0" if torch.cuda.is_available() else "cpu"
    best = yd.train(data_yaml, run, cfg, device, False, log=log)
    scores = yd.evaluate(best, data_yaml, run, cfg, device, spec.classes)
    atomic_write_bytes(out / DETECTOR_FILE, weights_standin.canonical_yolo_checkpoint(best))
    return {"source": "synthetic", "kind": "stand-in YOLO11n trained on source images", "file": DETECTOR_FILE,
            "trained_on": f"m3fd train split, visible + infrared ({len(items['train'])} images)",
            "sha256": file_digest(out / DETECTOR_FILE), "test_sources_mAP50": round_floats(scores)["mAP50"]}
