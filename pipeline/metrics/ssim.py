"""SSIM as scikit-image's ``structural_similarity`` defaults compute it (reference/metrics.md).

7x7 uniform window, sample covariance (N / (N - 1)), K1 = 0.01, K2 = 0.03, the 3-pixel
border cropped before the mean: the mean over the 'valid' windows.

``SSIM`` (data_range = 2) is what CDDFuse's evaluator got from scikit-image 0.19 on its
float32 gray images: near-zero constants AND float32 arithmetic. With constants that
small, float32 rounding of E[x^2] - E[x]^2 (~1e-2 on values ~6e4) decides flat windows,
so the golden values are only reproduced by replaying scikit-image's float32 steps
(scipy's uniform filter: one float64 pass per axis, each stored as float32).
``SSIM_L255`` (data_range = 255, constants ~1e4 times larger) is insensitive to it: it
shares the same float32 maps (agrees with the float64 value to ~1e-7).
"""
from __future__ import annotations

import torch

from pipeline.metrics.filters import box_mean_valid_axis

WIN = 7
K1, K2 = 0.01, 0.03
PAPER_DATA_RANGE = 2.0


def _uniform(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # scipy.ndimage.uniform_filter: axis 0 then axis 1, float64 inside, stored in the input dtype
    y = box_mean_valid_axis(x, WIN, dim=-2).to(dtype)
    return box_mean_valid_axis(y, WIN, dim=-1).to(dtype)


def ssim_per_source(
    ref: torch.Tensor, f: torch.Tensor, data_ranges: tuple[float, ...], dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """SSIM(F, ref_c) per channel of ref (B, C, H, W), f (B, 1, H, W), 0..255 -> (R, B, C) float64.

    One value per data range (the filtered maps are shared). ``dtype`` is the arithmetic
    scikit-image would use (float32 for float32 images).
    """
    x, y = f.to(dtype), ref.to(dtype)
    cov_norm = torch.tensor(WIN * WIN / (WIN * WIN - 1), dtype=dtype)
    c1 = torch.tensor([(K1 * r) ** 2 for r in data_ranges], dtype=dtype).view(-1, 1, 1, 1, 1)
    c2 = torch.tensor([(K2 * r) ** 2 for r in data_ranges], dtype=dtype).view(-1, 1, 1, 1, 1)
    ux, uy = _uniform(x, dtype), _uniform(y, dtype)
    uxx, uyy, uxy = _uniform(x * x, dtype), _uniform(y * y, dtype), _uniform(x * y, dtype)
    # same operation order as scikit-image, so float32 rounds the same way
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    a1 = 2 * ux * uy + c1
    a2 = 2 * vxy + c2
    b1 = ux**2 + uy**2 + c1
    b2 = vx + vy + c2
    s = (a1 * a2) / (b1 * b2)
    return s.to(torch.float64).mean((-2, -1))


def ssim_sum(f, a, b, data_ranges=(PAPER_DATA_RANGE,), dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """SSIM(F, A) + SSIM(F, B), gray (B, 1, H, W) each -> (R, B) for R data ranges."""
    return ssim_per_source(torch.cat([a, b], 1), f, tuple(data_ranges), dtype).sum(-1)
