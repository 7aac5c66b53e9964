"""The luminance rules' common step: fuse BT.601 Y, keep the visible Cb, Cr."""
from __future__ import annotations

import torch
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb


def fuse_luminance(ir: torch.Tensor, vis: torch.Tensor, combine) -> torch.Tensor:
    ycbcr = rgb_to_ycbcr(vis)
    y = combine(ir, ycbcr[:, :1])
    return ycbcr_to_rgb(torch.cat([y, ycbcr[:, 1:]], 1)).clamp(0, 1)
