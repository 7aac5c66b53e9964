"""MS-SSIM: Wang's 5-scale multi-scale SSIM as pytorch-msssim 1.0 computes it (reference/metrics.md).

Gaussian window 11, sigma 1.5, 'valid' filtering, 2x2 average pooling between scales
(odd sides padded, padding counted), negative cs/ssim clamped to 0, float64. The
project's MSS uses data_range = 1 on 0..255 data (near-zero constants, as SSIM);
MSS_L255 uses 255.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.metrics.filters import FILTER_STRIP_ELEMENTS, filter_valid, image_strips, moment_stack, n_valid

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WIN, SIGMA = 11, 1.5
K1, K2 = 0.01, 0.03
PAPER_DATA_RANGE = 1.0
MIN_SIDE = (WIN - 1) * 2 ** 4  # the coarsest scale must still hold one window


def _window() -> torch.Tensor:
    # built in float32 then widened, as pytorch-msssim does: the golden values depend on it
    x = torch.arange(WIN, dtype=torch.float32) - WIN // 2
    g = torch.exp(-(x**2) / (2 * SIGMA**2))
    return (g / g.sum()).to(torch.float64)


def _strip_sums(x: torch.Tensor, y: torch.Tensor, win: torch.Tensor, c1, c2, last: bool) -> torch.Tensor:
    """Sum (R, B, C) over a strip's 'valid' outputs of the cs map, or of the SSIM map if ``last``."""
    c = x.shape[1]
    # F's moments once for both sources: one stack, two matrix products
    maps = moment_stack(x, y)
    mu1, mu2, e11, e22, e12 = filter_valid(maps, win).split([c, 1, c, 1, c], 1)
    sigma1_sq = e11 - mu1 * mu1
    sigma2_sq = e22 - mu2 * mu2
    sigma12 = e12 - mu1 * mu2
    cs_map = (2 * sigma12 + c2) / (sigma1_sq + sigma2_sq + c2)
    if last:
        cs_map = ((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)) * cs_map
    return cs_map.sum((-2, -1))


def ms_ssim_per_source(ref: torch.Tensor, f: torch.Tensor, data_ranges: tuple[float, ...]) -> torch.Tensor:
    """MS-SSIM(F, ref_c) per channel of ref (B, C, H, W), f (B, 1, H, W), 0..255 -> (R, B, C).

    One value per data range in ``data_ranges``: the filtering is shared, only the
    stabilising constants differ.
    """
    h, w = f.shape[-2:]
    if min(h, w) <= MIN_SIDE:
        raise ValueError(
            f"MS-SSIM needs images larger than {MIN_SIDE} pixels on the short side (5 scales of an "
            f"{WIN}-pixel window); got {h}x{w}."
        )
    win = _window()
    c1 = torch.tensor([(K1 * r) ** 2 for r in data_ranges], dtype=torch.float64, device=ref.device).view(-1, 1, 1, 1, 1)
    c2 = torch.tensor([(K2 * r) ** 2 for r in data_ranges], dtype=torch.float64, device=ref.device).view(-1, 1, 1, 1, 1)
    x, y = ref.to(torch.float64), f.to(torch.float64)
    values = []
    for level in range(len(WEIGHTS)):
        last = level == len(WEIGHTS) - 1
        n_rows, n_cols = n_valid(x.shape[-2], WIN), n_valid(x.shape[-1], WIN)
        total = torch.zeros(len(data_ranges), *x.shape[:2], dtype=torch.float64, device=x.device)
        for i, x_strip, y_strip in image_strips(x, y, WIN, FILTER_STRIP_ELEMENTS):
            total[:, i] += _strip_sums(x_strip, y_strip, win, c1, c2, last)[:, 0]
        values.append(torch.relu(total / (n_rows * n_cols)))  # (R, B, C): the map's mean
        if not last:
            padding = [s % 2 for s in x.shape[2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
    weights = torch.tensor(WEIGHTS, dtype=torch.float64, device=x.device).view(-1, 1, 1, 1)
    return torch.prod(torch.stack(values) ** weights, dim=0)


def ms_ssim_sum(f, a, b, data_ranges: tuple[float, ...] = (PAPER_DATA_RANGE,)) -> torch.Tensor:
    """MS-SSIM(F, A) + MS-SSIM(F, B), gray (B, 1, H, W) each -> (R, B) for R data ranges."""
    return ms_ssim_per_source(torch.cat([a, b], 1), f, tuple(data_ranges)).sum(-1)
