"""Cross-segmentation consistency loss, Eq. 4-6 of the paper.

Pure functions of their tensors. The Dice sums (Eq. 5) are batch-level: a caller that runs
several processes passes ``reduce``, a differentiable sum over the processes
(``pipeline.distributed.global_sum``), so that they run over the global batch; the default
(one process) leaves them as they are.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

# A batch-level sum -> the same sum over all processes (differentiable); identity for one process.
Reduce = Callable[[torch.Tensor], torch.Tensor]


def no_reduction(value: torch.Tensor) -> torch.Tensor:
    """The default ``reduce``: one process, the sums are already the batch's."""
    return value


def pseudo_label(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Eq. 4: per pixel, the argmax of the more confident branch (higher max softmax).

    logits_a, logits_b: (B, n, H, W) of the feature-level (H(B(.))) and pixel-level (S(F(.)))
    branches. Returns (B, H, W) int64, without gradient. Ties go to branch B ("otherwise").
    """
    with torch.no_grad():
        conf_a, cls_a = logits_a.softmax(dim=1).max(dim=1)
        conf_b, cls_b = logits_b.softmax(dim=1).max(dim=1)
        return torch.where(conf_a > conf_b, cls_a, cls_b)


def dice_loss(logits: torch.Tensor, label: torch.Tensor, eps: float = 1.0,
              reduce: Reduce = no_reduction) -> torch.Tensor:
    """Eq. 5 L_dice = 1 - mean over the n classes of 2 sum(p_c y_c) / (sum p_c + sum y_c + eps).

    Sums run over the whole batch's pixels, then through ``reduce`` (see the module docstring);
    eps = 1 (the paper gives no value).
    """
    n = logits.shape[1]
    prob = logits.softmax(dim=1)
    onehot = F.one_hot(label, n).permute(0, 3, 1, 2).to(prob.dtype)
    dims = (0, 2, 3)
    # Under several processes the sums run over the global batch (a ratio of sums is not a mean of shards).
    inter, total = reduce((prob * onehot).sum(dims)), reduce(prob.sum(dims) + onehot.sum(dims))
    dice = 2 * inter / (total + eps)
    return 1.0 - dice.mean()


def hybrid_loss(logits: torch.Tensor, label: torch.Tensor, eps: float = 1.0,
                reduce: Reduce = no_reduction) -> torch.Tensor:
    """Eq. 5 L_hyb = L_ce (mean over pixels) + L_dice. logits (B, n, H, W), label (B, H, W)."""
    return F.cross_entropy(logits, label) + dice_loss(logits, label, eps, reduce)


def csc_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, eps: float = 1.0,
             reduce: Reduce = no_reduction) -> torch.Tensor:
    """Eq. 6 L_csc = (L_hyb(p^A, p~) + L_hyb(p^B, p~)) / 2, with p~ from Eq. 4 (no gradient).

    ``reduce``: the Dice sums' reduction over processes (default: none, one process)."""
    if logits_a.shape != logits_b.shape:
        raise ValueError(f"branch logits differ in shape: {tuple(logits_a.shape)} vs {tuple(logits_b.shape)}")
    label = pseudo_label(logits_a, logits_b)
    return 0.5 * (hybrid_loss(logits_a, label, eps, reduce) + hybrid_loss(logits_b, label, eps, reduce))

