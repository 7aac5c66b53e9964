"""SSIM as scikit-image's ``structural_similarity`` defaults compute it (docs/metrics.md).

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

import numpy as np

from pipeline.metrics.filters import FILTER_STRIP_ELEMENTS, filter_valid, image_strips, moment_stack, n_valid

WIN = 7
K1, K2 = 0.01, 0.03
PAPER_DATA_RANGE = 2.0
_ONES, _ONE = np.ones(WIN), np.ones(1)


def _uniform(x: np.ndarray, dtype) -> np.ndarray:
    """scipy.ndimage.uniform_filter's 'valid' outputs: axis 0 then axis 1, each pass's window
    sum / 7 in float64 stored in ``dtype``. Bit for bit: the row pass sums 8-bit values and
    their products (< 2^24, exact in float32, and fl32(s / 7) never double-rounds: 1/7 has
    no float32 tie); the column pass sums float32 multiples of 2^-26 below 2^19: exact in float64.
    """
    y = filter_valid(x.astype(dtype), _ONES, _ONE) / dtype(WIN)  # exact sums: any summation order gives these bits
    return (filter_valid(y.astype(np.float64), _ONE, _ONES) / WIN).astype(dtype)


def _strip_ssim(x: np.ndarray, y: np.ndarray, c1: np.ndarray, c2: np.ndarray, dtype) -> np.ndarray:
    """Sum (R, C) of the SSIM map over the 'valid' outputs of a strip of x (1, .., W), y (C, .., W)."""
    c = y.shape[0]
    maps = _uniform(moment_stack(y, x, dtype), dtype)  # F's moments once for both sources
    uy, ux, uyy, uxx, uxy = np.split(maps, [c, c + 1, 2 * c + 1, 2 * c + 2])
    cov_norm = dtype(WIN * WIN / (WIN * WIN - 1))
    # same operation order as scikit-image, so float32 rounds the same way
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    a1 = 2 * ux * uy + c1
    a2 = 2 * vxy + c2
    b1 = ux**2 + uy**2 + c1
    b2 = vx + vy + c2
    s = (a1 * a2) / (b1 * b2)
    return s.astype(np.float64).sum((-2, -1))


def ssim_per_source(ref: np.ndarray, f: np.ndarray, data_ranges: tuple[float, ...], dtype=np.float64) -> np.ndarray:
    """SSIM(F, ref_c) per channel of ref (C, H, W), f (1, H, W), 0..255 -> (R, C) float64.

    One value per data range (the filtered maps are shared). ``dtype`` is the arithmetic
    scikit-image would use (float32 for float32 images).
    """
    c1 = np.array([(K1 * r) ** 2 for r in data_ranges], dtype=dtype).reshape(-1, 1, 1, 1)
    c2 = np.array([(K2 * r) ** 2 for r in data_ranges], dtype=dtype).reshape(-1, 1, 1, 1)
    h, w = f.shape[-2:]
    n_rows, n_cols = n_valid(h, WIN), n_valid(w, WIN)
    total = np.zeros((len(data_ranges), ref.shape[0]), dtype=np.float64)
    for ref_strip, f_strip in image_strips(ref, f, WIN, FILTER_STRIP_ELEMENTS):
        total += _strip_ssim(f_strip, ref_strip, c1, c2, dtype)
    return total / (n_rows * n_cols)  # the mean over the map, border of 3 cropped


def ssim_sum(f, a, b, data_ranges=(PAPER_DATA_RANGE,), dtype=np.float64) -> np.ndarray:
    """SSIM(F, A) + SSIM(F, B) of gray (H, W) images -> (R,) for R data ranges."""
    return ssim_per_source(np.stack([a, b]), f[None], tuple(data_ranges), dtype).sum(-1)
