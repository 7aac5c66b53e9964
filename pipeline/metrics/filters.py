"""Separable 'valid' filtering of image batches, shared by VIF, SSIM and MS-SSIM.

Shift-and-add (one fused multiply-add over the whole batch per tap) instead of conv2d:
for float64, which these metrics need, PyTorch's CPU conv2d has no fast path and is
about 6x slower than k axpy passes.
"""
from __future__ import annotations

import torch


def gaussian_kernel1d(size: int, sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian (size,), float64; its outer product is MATLAB's fspecial."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def filter_valid_axis(x: torch.Tensor, kernel: torch.Tensor, dim: int, step: int = 1) -> torch.Tensor:
    """Correlate (..., H, W) with a 1-D kernel along ``dim`` ('valid' region), keeping every ``step``-th output."""
    k = len(kernel)
    n_valid = x.shape[dim] - k + 1
    if n_valid < 1:
        raise ValueError(f"image side {x.shape[dim]} is smaller than the {k}-pixel window.")
    n_out = (n_valid - 1) // step + 1
    weights = kernel.tolist()

    def tap(i: int) -> torch.Tensor:
        index = [slice(None)] * x.ndim
        index[dim] = slice(i, i + (n_out - 1) * step + 1, step)
        return x[tuple(index)]

    out = tap(0) * weights[0]
    for i in range(1, k):
        out.add_(tap(i), alpha=weights[i])
    return out


def separable_valid(x: torch.Tensor, kernel: torch.Tensor, step: int = 1) -> torch.Tensor:
    """Correlate (..., H, W) with outer(kernel, kernel), 'valid' region, subsampled by ``step``.

    Two 1-D passes instead of one k x k pass: 2k instead of k^2 products per pixel;
    the subsampling is done inside the passes, so skipped outputs cost nothing.
    """
    return filter_valid_axis(filter_valid_axis(x, kernel, -1, step), kernel, -2, step)


def box_mean_valid_axis(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Mean over windows of ``size`` along ``dim``, 'valid' region, in float64.

    A running sum: exact for integer-valued data, rounding ~1e-16 relative otherwise.
    """
    c = torch.cumsum(x.to(torch.float64), dim)
    zero = torch.zeros_like(c.narrow(dim, 0, 1))
    c = torch.cat([zero, c], dim)
    n = x.shape[dim] - size + 1
    return (c.narrow(dim, size, n) - c.narrow(dim, 0, n)) / size
