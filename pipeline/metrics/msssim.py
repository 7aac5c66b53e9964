"""MS-SSIM: Wang's 5-scale multi-scale SSIM as pytorch-msssim 1.0 computes it (docs/metrics.md).

Gaussian window 11, sigma 1.5, 'valid' filtering, 2x2 average pooling between scales
(odd sides padded, padding counted), negative cs/ssim clamped to 0, float64. The
project's MSS uses data_range = 1 on 0..255 data (near-zero constants, as SSIM);
MSS_L255 uses 255.
"""
from __future__ import annotations

import numpy as np

from pipeline.metrics.filters import FILTER_STRIP_ELEMENTS, filter_valid, image_strips, moment_stack, n_valid

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WIN, SIGMA = 11, 1.5
K1, K2 = 0.01, 0.03
PAPER_DATA_RANGE = 1.0
MIN_SIDE = (WIN - 1) * 2 ** 4  # the coarsest scale must still hold one window


# pytorch-msssim's 11-tap window, sigma 1.5, exactly as torch computes it in float32 (exp, then
# divided by its sum). numpy's float32 exp and sum round 3 of these 11 values differently in the
# last bit, and MSS at data_range 1 amplifies that ~1e6-fold (44 golden values failed): so the
# float32 values themselves (tests/metrics/test_fusion_cases.py recomputes them with torch).
WINDOW_FLOAT32 = (
    0.0010283803567290306, 0.0075987582094967365, 0.036000773310661316, 0.10936068743467331,
    0.21300552785396576, 0.26601171493530273, 0.21300552785396576, 0.10936068743467331,
    0.036000773310661316, 0.0075987582094967365, 0.0010283803567290306,
)


def _window() -> np.ndarray:
    # float32 values widened to float64, as pytorch-msssim does: the golden values depend on it
    return np.array(WINDOW_FLOAT32, dtype=np.float32).astype(np.float64)


def _strip_sums(x: np.ndarray, y: np.ndarray, win: np.ndarray, c1, c2, last: bool) -> np.ndarray:
    """Sum (R, C) over a strip's 'valid' outputs of the cs map, or of the SSIM map if ``last``."""
    c = x.shape[0]
    maps = filter_valid(moment_stack(x, y), win)  # F's moments once for both sources
    mu1, mu2, e11, e22, e12 = np.split(maps, [c, c + 1, 2 * c + 1, 2 * c + 2])
    sigma1_sq = e11 - mu1 * mu1
    sigma2_sq = e22 - mu2 * mu2
    sigma12 = e12 - mu1 * mu2
    cs_map = (2 * sigma12 + c2) / (sigma1_sq + sigma2_sq + c2)
    if last:
        cs_map = ((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)) * cs_map
    return cs_map.sum((-2, -1))


def _avg_pool2(x: np.ndarray) -> np.ndarray:
    """torch's avg_pool2d(kernel 2, padding = side % 2, zeros counted) of (C, H, W)."""
    pad = [(0, 0)] + [(s % 2, s % 2) for s in x.shape[1:]]
    if any(p for p, _ in pad):
        x = np.pad(x, pad)
    h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
    x = x[:, :h, :w]
    return (x[:, 0::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 4


def ms_ssim_per_source(ref: np.ndarray, f: np.ndarray, data_ranges: tuple[float, ...]) -> np.ndarray:
    """MS-SSIM(F, ref_c) per channel of ref (C, H, W), f (1, H, W), 0..255 -> (R, C).

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
    c1 = np.array([(K1 * r) ** 2 for r in data_ranges]).reshape(-1, 1, 1, 1)
    c2 = np.array([(K2 * r) ** 2 for r in data_ranges]).reshape(-1, 1, 1, 1)
    x, y = ref.astype(np.float64), f.astype(np.float64)
    values = []
    for level in range(len(WEIGHTS)):
        last = level == len(WEIGHTS) - 1
        n_rows, n_cols = n_valid(x.shape[-2], WIN), n_valid(x.shape[-1], WIN)
        total = np.zeros((len(data_ranges), x.shape[0]))
        for x_strip, y_strip in image_strips(x, y, WIN, FILTER_STRIP_ELEMENTS):
            total += _strip_sums(x_strip, y_strip, win, c1, c2, last)
        values.append(np.maximum(total / (n_rows * n_cols), 0.0))  # (R, C): the map's mean, relu
        if not last:
            x, y = _avg_pool2(x), _avg_pool2(y)
    weights = np.array(WEIGHTS).reshape(-1, 1, 1)
    return np.prod(np.stack(values) ** weights, axis=0)


def ms_ssim_sum(f, a, b, data_ranges: tuple[float, ...] = (PAPER_DATA_RANGE,)) -> np.ndarray:
    """MS-SSIM(F, A) + MS-SSIM(F, B) of gray (H, W) images -> (R,) for R data ranges."""
    return ms_ssim_per_source(np.stack([a, b]), f[None], tuple(data_ranges)).sum(-1)
