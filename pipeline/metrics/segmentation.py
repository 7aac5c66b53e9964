"""Segmentation scores: confusion matrix over a whole test set, per-class IoU and mIoU.

IoU comes from the matrix accumulated over every image (not a mean of per-image IoUs).
mIoU averages the classes PRESENT in the ground truth of the test set; a class with no
ground-truth pixel (FMB's test set has no Bicycle) is reported in ``absent_classes``
with IoU None, never silently dropped or counted as 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"segmentation maps must be integer class indices, got {x.dtype}.")
    return x.astype(np.int64).ravel()


class ConfusionMatrix:
    """Accumulates a (num_classes, num_classes) matrix, rows = ground truth, columns = prediction."""

    def __init__(self, num_classes: int, ignore_index: int | None = 255):
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, pred, target) -> "ConfusionMatrix":
        """Add one batch: pred and target integer arrays (numpy or torch) of the same shape."""
        p, t = _as_numpy(pred), _as_numpy(target)
        if p.shape != t.shape:
            raise ValueError(f"prediction has {p.size} pixels, target {t.size}: shapes must match.")
        keep = t != self.ignore_index if self.ignore_index is not None else np.ones_like(t, bool)
        p, t = p[keep], t[keep]
        bad = (t < 0) | (t >= self.num_classes) | (p < 0) | (p >= self.num_classes)
        if bad.any():
            raise ValueError(
                f"class index outside 0..{self.num_classes - 1} (and not ignore_index="
                f"{self.ignore_index}): target values {np.unique(t[bad])[:5].tolist()}, "
                f"prediction values {np.unique(p[bad])[:5].tolist()}."
            )
        self.matrix += np.bincount(t * self.num_classes + p, minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes
        )
        return self


def iou_report(matrix: np.ndarray, class_names: Sequence[str]) -> dict:
    """Per-class IoU and mIoU in %, from an accumulated confusion matrix.

    Returns dict(mIoU=float %, IoU={name: % or None}, absent_classes=[...], present_classes=[...]).
    A class absent from the ground truth has IoU None (its false positives still lower the
    IoU of the true classes); mIoU is the mean over present classes only.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (len(class_names), len(class_names)):
        raise ValueError(f"matrix {m.shape} does not match {len(class_names)} class names.")
    tp = np.diag(m)
    gt = m.sum(1)
    union = gt + m.sum(0) - tp
    present = gt > 0
    iou = {
        name: (float(100 * tp[i] / union[i]) if present[i] else None)
        for i, name in enumerate(class_names)
    }
    values = [v for v in iou.values() if v is not None]
    return {
        "mIoU": float(np.mean(values)) if values else float("nan"),
        "IoU": iou,
        "absent_classes": [n for i, n in enumerate(class_names) if not present[i]],
        "present_classes": [n for i, n in enumerate(class_names) if present[i]],
    }
