"""Sobel gradient magnitude shared by the SSVIF and original-framework fusion losses."""
from __future__ import annotations

import torch
from kornia.filters import spatial_gradient


def sobel_magnitude(image: torch.Tensor) -> torch.Tensor:
    """|gx| + |gy| of the 3x3 Sobel operator, per channel.

    image: (B, C, H, W) in [0, 1]. Returns (B, C, H, W). Unnormalised kernels and the
    L1 magnitude, as SwinFusion's and SeAFusion's code compute it (docs/models.md).
    """
    grad = spatial_gradient(image, mode="sobel", order=1, normalized=False)  # (B, C, 2, H, W)
    return grad.abs().sum(dim=2)
