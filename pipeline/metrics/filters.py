"""Separable 'valid' filtering of image batches (float64), shared by VIF, SSIM and MS-SSIM."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_kernel1d(size: int, sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian (size,), float64; its outer product is MATLAB's fspecial."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def filter_valid_axis(x: torch.Tensor, kernel: torch.Tensor, dim: int) -> torch.Tensor:
    """Correlate (B, C, H, W) with a 1-D kernel along dim -2 (H) or -1 (W), 'valid' region."""
    b, c, h, w = x.shape
    k = kernel.to(x)
    shape = (1, 1, -1, 1) if dim in (-2, 2) else (1, 1, 1, -1)
    y = F.conv2d(x.reshape(b * c, 1, h, w), k.view(shape))
    return y.reshape(b, c, y.shape[-2], y.shape[-1])


def separable_valid(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate (B, C, H, W) with outer(kernel, kernel), 'valid' region only.

    Two 1-D passes instead of one k x k pass: 2k instead of k^2 products per pixel.
    """
    return filter_valid_axis(filter_valid_axis(x, kernel, -1), kernel, -2)


def box_valid_axis(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Mean over windows of ``size`` along one axis, 'valid' region."""
    return filter_valid_axis(x, torch.full((size,), 1.0 / size, dtype=torch.float64), dim)
