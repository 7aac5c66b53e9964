"""Pad an image to a multiple of a model's stride and crop it back (SwinFusion: window, EMMA: 8)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad (B, C, H, W) at the bottom/right to H, W multiples of ``multiple``.

    Reflect padding as the originals do; replicate when the image is too small to reflect
    (reflect needs pad < size).
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


def crop_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Top-left crop of (B, C, H', W') to (B, C, height, width)."""
    return x[..., :height, :width]
