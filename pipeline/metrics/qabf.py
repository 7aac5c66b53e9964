"""Qabf: Xydeas-Petrovic edge-preservation index (reference/metrics.md), batched."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

TG, KG, DG = 0.9994, -15.0, 0.5
TA, KA, DA = 0.9879, -22.0, 0.8

# Kernels as the reference writes them for scipy's convolve2d (a true convolution);
# flipped here because conv2d correlates.
_SOBEL_X = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64).flip(0, 1)
_SOBEL_Y = torch.tensor([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=torch.float64).flip(0, 1)


def edge_strength_orientation(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sobel magnitude g and angle alpha of (B, C, H, W), 'same' size, zero padding."""
    b, c, h, w = x.shape
    # float32, as the reference (scipy convolve2d of float32 images): Sobel sums of 8-bit values
    # are exact integers, so g_X == g_F ties are found exactly either way; float32 is 2-4x faster
    y = x.to(torch.float32).reshape(b * c, 1, h, w)
    k = torch.stack([_SOBEL_X, _SOBEL_Y])[:, None].to(y)
    s = F.conv2d(y, k, padding=1)
    sx, sy = s[:, 0], s[:, 1]
    g = torch.sqrt(sx * sx + sy * sy)
    zero = sx == 0
    alpha = torch.where(zero, math.pi / 2, torch.atan(sy / torch.where(zero, 1.0, sx)))
    return g.view(b, c, h, w), alpha.view(b, c, h, w)


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
    g, alpha = edge_strength_orientation(torch.cat([a, b, f], 1))
    g_src, a_src, g_f, a_f = g[:, :2], alpha[:, :2], g[:, 2:], alpha[:, 2:]
    q = edge_preservation(g_src, a_src, g_f, a_f)
    g_src = g_src.to(torch.float64)  # the sums over ~1e6 terms in float64
    return (q * g_src).sum((1, 2, 3)) / g_src.sum((1, 2, 3))  # weights g^L, L = 1
