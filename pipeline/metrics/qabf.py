"""Qabf: Xydeas-Petrovic edge-preservation index (reference/metrics.md), batched."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from pipeline.metrics.filters import row_strips

TG, KG, DG = 0.9994, -15.0, 0.5
TA, KA, DA = 0.9879, -22.0, 0.8


def sobel(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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


def edge_strength_orientation(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel magnitude g and angle alpha of (..., H + 2, W + 2) zero-padded input -> (..., H, W)."""
    sx, sy = sobel(x)
    g = torch.sqrt(sx * sx + sy * sy)
    zero = sx == 0
    alpha = torch.where(zero, math.pi / 2, torch.atan(sy / torch.where(zero, 1.0, sx)))
    return g, alpha


def edge_preservation(g_x, a_x, g_f, a_f) -> torch.Tensor:
    """Q_XF = Q_g * Q_alpha per pixel."""
    # reference quirk: where g_X == g_F the ratio is set to g_F, not 1
    ratio = torch.where(
        g_x > g_f, g_f / torch.where(g_x > g_f, g_x, 1.0),
        torch.where(g_x < g_f, g_x / torch.where(g_x < g_f, g_f, 1.0), g_f),
    )
    a_xf = 1 - torch.abs(a_x - a_f) / (math.pi / 2)
    q_g = TG / (1 + torch.exp(KG * (ratio - DG)))
    q_a = TA / (1 + torch.exp(KA * (a_xf - DA)))
    return q_g * q_a


def qabf(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Qabf of gray F given gray A, B (B, 1, H, W) -> (B,); NaN where no source has a gradient."""
    # float32, as the reference (scipy convolve2d of float32 images)
    x = F.pad(torch.cat([a, b, f], 1).to(torch.float32), (1, 1, 1, 1))
    h, w = f.shape[-2:]
    num = torch.zeros(f.shape[0], dtype=torch.float64, device=f.device)
    den = torch.zeros_like(num)
    for i in range(x.shape[0]):  # one image, one strip of rows at a time: stays in cache
        for r0, r1 in row_strips(h, 3 * w, x.device):
            g, alpha = edge_strength_orientation(x[i, :, r0 : r1 + 2])
            g_src = g[:2]
            q = edge_preservation(g_src, alpha[:2], g[2:], alpha[2:])
            g_src = g_src.to(torch.float64)  # the sums over ~1e6 terms in float64
            num[i] += (q * g_src).sum()
            den[i] += g_src.sum()
    return num / den  # weights g^L, L = 1
