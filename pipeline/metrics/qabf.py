"""Qabf: Xydeas-Petrovic edge-preservation index (docs/metrics.md)."""
from __future__ import annotations

import math

import numpy as np

from pipeline.metrics.filters import row_strips

TG, KG, DG = 0.9994, -15.0, 0.5
TA, KA, DA = 0.9879, -22.0, 0.8
_HALF_PI = np.float32(math.pi / 2)


def sobel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's Sobel responses (scipy convolve2d, 'same', zero padding) of (..., H, W).

    Input padded by one pixel of zeros: (..., H + 2, W + 2) -> gx, gy (..., H, W).
    Separable, as shifted adds: the sums of 8-bit values are exact integers in float32,
    so these are the reference's numbers bit for bit.
    """
    smooth = x[..., :-2, :] + 2 * x[..., 1:-1, :] + x[..., 2:, :]  # [1 2 1] down the rows
    diff = x[..., :-2, :] - x[..., 2:, :]  # [1 0 -1] down the rows
    gx = smooth[..., 2:] - smooth[..., :-2]  # convolve2d with [-1 0 1; -2 0 2; -1 0 1]
    gy = diff[..., :-2] + 2 * diff[..., 1:-1] + diff[..., 2:]  # with [1 2 1; 0 0 0; -1 -2 -1]
    return gx, gy


def edge_strength_orientation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel magnitude g and angle alpha of (..., H + 2, W + 2) zero-padded input -> (..., H, W)."""
    sx, sy = sobel(x)
    g = np.sqrt(sx * sx + sy * sy)
    zero = sx == 0
    alpha = np.arctan(sy / np.where(zero, np.float32(1.0), sx))
    alpha[zero] = _HALF_PI
    return g, alpha


def edge_preservation(g_x, a_x, g_f, a_f) -> np.ndarray:
    """Q_XF = Q_g * Q_alpha per pixel."""
    # reference quirk: where g_X == g_F the ratio is set to g_F, not 1
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(g_x > g_f, g_f / g_x, np.where(g_x < g_f, g_x / g_f, g_f))
    a_xf = 1 - np.abs(a_x - a_f) / _HALF_PI
    q_g = TG / (1 + np.exp(KG * (ratio - DG)))
    q_a = TA / (1 + np.exp(KA * (a_xf - DA)))
    return q_g * q_a


def qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Qabf of gray F given gray A, B (H, W); NaN where no source has a gradient."""
    # float32, as the reference (scipy convolve2d of float32 images)
    x = np.pad(np.stack([a, b, f]).astype(np.float32), ((0, 0), (1, 1), (1, 1)))
    h, w = f.shape
    num = den = 0.0
    for r0, r1 in row_strips(h, 3 * w):  # one strip of rows at a time: stays in cache
        g, alpha = edge_strength_orientation(x[:, r0 : r1 + 2])
        g_src = g[:2]
        q = edge_preservation(g_src, alpha[:2], g[2:], alpha[2:])
        g_src = g_src.astype(np.float64)  # the sums over ~1e6 terms in float64
        num += float((q * g_src).sum())
        den += float(g_src.sum())
    return num / den if den else math.nan  # weights g^L, L = 1
