"""Synthetic stand-ins for the paper's starting weights (SegMiF's segmenter, COCO's YOLO11n).

Trained once on the *source* images of the training split (visible and infrared, with their
labels or boxes), so every method's fine-tune starts from the same weights, as in the paper's
protocol, and can be short. They play the role of pretraining; they are not the paper's weights.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from pipeline.atomic import torch_bytes
from pipeline.data.raw_layout import pair_paths
from pipeline.data.registry import DatasetSpec

MODALITIES = ("vis", "ir")
# Ultralytics records where it ran: these train_args would tie the bytes to the checkout's folder.
_PATH_ARGS = ("data", "project", "name", "save_dir", "model", "source", "pretrained", "cfg", "tracker")


def source_pairs(spec: DatasetSpec, raw: Path, stems: Sequence[str], part: str) -> list[tuple[Path, Path]]:
    """(source image, label) for every stem of a segmentation split, visible and infrared."""
    out = []
    for stem in stems:
        paths = pair_paths(spec, raw, stem, part)
        out += [(paths[m], paths["label"]) for m in MODALITIES]
    return out


def source_boxes(spec: DatasetSpec, raw: Path, stems: Sequence[str], part: str) -> list[tuple[str, Path, Path]]:
    """(unique name, source image, VOC annotation) for every stem of a detection split, both modalities."""
    out = []
    for stem in stems:
        paths = pair_paths(spec, raw, stem, part)
        out += [(f"{stem}_{m}", paths[m], paths["annotation"]) for m in MODALITIES]
    return out


def canonical_yolo_checkpoint(path: Path) -> bytes:
    """An Ultralytics checkpoint re-saved without its date, paths and run records (same bytes every run)."""
    import torch

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = ckpt.get("ema") or ckpt["model"]
    model.args = {k: v for k, v in dict(getattr(model, "args", {}) or {}).items() if k not in _PATH_ARGS}
    clean = {"date": None, "version": ckpt.get("version"), "license": ckpt.get("license"), "epoch": -1,
             "model": model, "ema": None, "optimizer": None, "train_args": dict(model.args)}
    return torch_bytes(clean)
