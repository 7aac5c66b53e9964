"""Synthetic stand-ins for the paper's starting weights (SegMiF's segmenter, COCO's YOLO11n).

Trained once on the *source* images of the training split (visible and infrared, with their
labels or boxes), so every method's fine-tune starts from the same weights, as in the paper's
protocol, and can be short. They play the role of pretraining; they are not the paper's weights.

The segmenter stand-in can also see ``blends`` seeded convex blends of each stem's two sources
(:class:`SourceSamples`): pixels between the two sources, as fused images are.
"""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pipeline.atomic import torch_bytes
from pipeline.data.layout import pair_paths
from pipeline.data.registry import DatasetSpec
from pipeline.downstream.seg_data import SegmentationSamples, read_fused

MODALITIES = ("vis", "ir")
# Ultralytics records where it ran: these train_args would tie the bytes to the checkout's folder.
_PATH_ARGS = ("data", "project", "name", "save_dir", "model", "source", "pretrained", "cfg", "tracker")


BLEND_ALPHA = (0.2, 0.8)  # visible weight of a blend: never (almost) one source alone


def blend_alpha(seed: int, stem: str, k: int) -> float:
    """Visible weight of blend ``k`` of ``stem``, uniform in BLEND_ALPHA, from (seed, stem, k) alone."""
    rng = np.random.default_rng([int(seed), zlib.crc32(stem.encode()), int(k)])
    return float(rng.uniform(*BLEND_ALPHA))


class SourceSamples(SegmentationSamples):
    """The stand-in segmenter's samples: visible and infrared of every stem of a split part, then
    ``blends`` blends alpha * visible + (1 - alpha) * infrared, rounded to 8 bits as a fused PNG is.
    A blend's alpha depends only on (seed, stem, k), so the samples are the same on every run."""

    def __init__(self, spec: DatasetSpec, raw: Path, stems: Sequence[str], part: str,
                 read_label: Callable[[Path], np.ndarray], blends: int = 0, seed: int = 0):
        if int(blends) < 0:
            raise ValueError(f"weights.segmenter.standin.blends={blends}: give 0 (sources only) or more blends per stem")
        pairs, self.mix = [], []
        for stem in stems:
            paths = pair_paths(spec, raw, stem, part)
            for m in MODALITIES:
                pairs.append((paths[m], paths["label"]))
                self.mix.append(None)
            for k in range(int(blends)):
                pairs.append((paths["vis"], paths["label"]))  # the visible path: the sample's size (DDP reads it)
                self.mix.append((paths["ir"], blend_alpha(seed, stem, k)))
        super().__init__(pairs, read_label, spec.num_classes)

    def image(self, index: int) -> np.ndarray:
        if self.mix[index] is None:
            return super().image(index)
        ir_path, alpha = self.mix[index]
        vis, ir = super().image(index).astype(np.float32), read_fused(ir_path).astype(np.float32)
        if vis.shape != ir.shape:
            raise ValueError(f"{self.pairs[index][0]} and {ir_path} differ in size: the sources of a pair must match")
        return np.floor(alpha * vis + (1.0 - alpha) * ir + 0.5).clip(0, 255).astype(np.uint8)


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
