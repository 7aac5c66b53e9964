"""PairDataset: visible/infrared pairs (and labels) of one split as float tensors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.data.io import read_infrared, read_label, read_visible
from pipeline.data.raw_layout import pair_paths
from pipeline.data.registry import DatasetSpec
from pipeline.models.inputs import unit_images

IGNORE = 255


class PairDataset(Dataset):
    """Pairs of ``stems`` of ``split`` under ``root`` (official layout).

    Item: ``ir`` (1, H, W) float32 [0, 1], ``vis`` (3, H, W) float32 [0, 1] RGB, ``label`` (H, W) int64
    (with ``with_label``; 255 = ignore), ``stem``. With ``crop``, a random crop of that size (same window
    for all modalities; an image smaller than the crop is padded with 0 and label 255), plus random
    horizontal flips when ``augment``. The randomness of item ``i`` comes from ``(seed, epoch, i)``:
    call :meth:`set_epoch` each epoch for new crops; results do not depend on worker scheduling.
    """

    def __init__(self, spec: DatasetSpec, root: str | Path, stems, split: str, crop: int | None = None,
                 augment: bool = False, with_label: bool = False, seed: int = 0):
        if with_label and spec.task != "segmentation":
            raise ValueError(f"{spec.name} has box annotations, not label maps: use with_label=False")
        self.spec, self.root, self.split = spec, Path(root), split
        self.stems = list(stems)
        self.crop, self.augment, self.with_label, self.seed = crop, augment, with_label, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.stems)

    def _crop(self, arrays: list[np.ndarray], fills: list[int], rng: np.random.Generator) -> list[np.ndarray]:
        h, w = arrays[0].shape[:2]
        c = int(self.crop)
        if h < c or w < c:
            pad_h, pad_w = max(c - h, 0), max(c - w, 0)
            arrays = [np.pad(a, ((0, pad_h), (0, pad_w)) + ((0, 0),) * (a.ndim - 2), constant_values=f)
                      for a, f in zip(arrays, fills)]
            h, w = arrays[0].shape[:2]
        y, x = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1))
        return [a[y:y + c, x:x + c] for a in arrays]

    def __getitem__(self, index: int) -> dict:
        stem = self.stems[index]
        paths = pair_paths(self.spec, self.root, stem, self.split)
        arrays = [read_infrared(paths["ir"]), read_visible(paths["vis"])]
        fills = [0, 0]
        if self.with_label:
            arrays.append(read_label(paths["label"]))
            fills.append(IGNORE)
        if arrays[0].shape != arrays[1].shape[:2]:
            raise ValueError(f"size mismatch: {paths['ir']} {arrays[0].shape} vs {paths['vis']} {arrays[1].shape[:2]}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.crop:
            arrays = self._crop(arrays, fills, rng)
        if self.augment and rng.random() < 0.5:
            arrays = [a[:, ::-1] for a in arrays]
        ir, vis = unit_images(arrays[0], arrays[1])  # the fuse path's conversion (pipeline.models.inputs)
        item = {"ir": ir, "vis": vis.contiguous(), "stem": stem}
        if self.with_label:
            item["label"] = torch.from_numpy(np.array(arrays[2])).long()
        return item
