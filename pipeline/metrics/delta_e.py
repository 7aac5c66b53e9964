"""Delta E: mean CIEDE2000 between visible and fused RGB (reference/metrics.md).

sRGB (IEC 61966-2-1) -> XYZ -> CIELAB, D65, 2 degree observer, with colour-science's
numbers; CIEDE2000
as colour-science's ``delta_E_CIE2000`` (Sharma et al.), kL = kC = kH = 1.
Lab white = the XYZ of the D65 chromaticity (0.3127, 0.3290), as colour-science.
"""
from __future__ import annotations

import math

import torch

from pipeline.metrics.filters import row_strips

_D65_XY = (0.3127, 0.3290)
# IEC 61966-2-1's rounded matrix, the one colour-science's sRGB colourspace uses
# (a matrix derived from the primaries moves dE by ~1e-4 relative: outside tolerance).
SRGB_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))


def _xy_to_xyz(x: float, y: float) -> list[float]:
    return [x / y, 1.0, (1 - x - y) / y]


def rgb8_to_lab(rgb: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(B, 3, H, W) 8-bit sRGB (0..255) -> (B, 3, H, W) CIELAB in ``dtype`` (L in 0..100)."""
    # sRGB decoding of 8-bit codes by table lookup: 256 values instead of a pow per pixel
    v = torch.arange(256, dtype=torch.float64, device=rgb.device) / 255
    table = torch.where(v <= 12.92 * 0.0031308, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    codes = rgb.round().long()
    linear = table.to(dtype).index_select(0, codes.flatten()).view(codes.shape)  # faster than table[codes]
    xyz = torch.einsum("ij,bjhw->bihw", torch.tensor(SRGB_TO_XYZ, dtype=dtype, device=v.device), linear)
    white = torch.tensor(_xy_to_xyz(*_D65_XY), dtype=dtype, device=v.device).view(1, 3, 1, 1)
    t = xyz / white
    eps, kappa = 216 / 24389, 24389 / 27
    f = torch.where(t > eps, t.clamp_min(0) ** (1 / 3), (kappa * t + 16) / 116)
    fx, fy, fz = f.unbind(1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], 1)


def _pow7(x: torch.Tensor) -> torch.Tensor:
    x2 = x * x
    return x2 * x2 * x2 * x  # products: a generic float pow costs ~10x more


def _exp_neg(z: torch.Tensor) -> torch.Tensor:
    """exp(-z) for z >= 0, bit for bit, without the CPU's slow path for denormal results.

    Arguments whose exp is below the smallest normal number run ~50x slower per element;
    only those few (a band of hues) are computed on their own.
    """
    limit = -math.log(torch.finfo(z.dtype).tiny) - 8  # margin: the slow path starts a little early
    out = torch.exp(-z.clamp_max(limit))
    tail = z > limit
    if tail.any():
        out[tail] = torch.exp(-z[tail])
    return out


def ciede2000(lab1: torch.Tensor, lab2: torch.Tensor) -> torch.Tensor:
    """CIEDE2000 per pixel between (B, 3, H, W) Lab images -> (B, H, W)."""
    l1, a1, b1 = lab1.unbind(1)
    l2, a2, b2 = lab2.unbind(1)
    c_bar7 = _pow7((torch.hypot(a1, b1) + torch.hypot(a2, b2)) / 2)
    g = 0.5 * (1 - torch.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    ap1, ap2 = (1 + g) * a1, (1 + g) * a2
    cp1, cp2 = torch.hypot(ap1, b1), torch.hypot(ap2, b2)
    hp1 = torch.where((b1 == 0) & (ap1 == 0), 0.0, torch.rad2deg(torch.atan2(b1, ap1)) % 360)
    hp2 = torch.where((b2 == 0) & (ap2 == 0), 0.0, torch.rad2deg(torch.atan2(b2, ap2)) % 360)
    dl = l2 - l1
    dc = cp2 - cp1
    dh = hp2 - hp1
    cc = cp1 * cp2
    dh = torch.where(cc == 0, 0.0, torch.where(dh > 180, dh - 360, torch.where(dh < -180, dh + 360, dh)))
    d_big_h = 2 * torch.sqrt(cc) * torch.sin(torch.deg2rad(dh / 2))
    l_bar = (l1 + l2) / 2
    c_bar = (cp1 + cp2) / 2
    hsum = hp1 + hp2
    far = torch.abs(hp1 - hp2) > 180
    h_bar = torch.where(
        cc == 0, hsum,
        torch.where(~far, hsum / 2, torch.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)),
    )
    rad = torch.deg2rad
    t = (1 - 0.17 * torch.cos(rad(h_bar - 30)) + 0.24 * torch.cos(rad(2 * h_bar))
         + 0.32 * torch.cos(rad(3 * h_bar + 6)) - 0.20 * torch.cos(rad(4 * h_bar - 63)))
    d_theta = 30 * _exp_neg(((h_bar - 275) / 25) ** 2)
    c_bar7p = _pow7(c_bar)
    r_c = 2 * torch.sqrt(c_bar7p / (c_bar7p + 25.0**7))
    l50 = (l_bar - 50) ** 2
    s_l = 1 + 0.015 * l50 / torch.sqrt(20 + l50)
    s_c = 1 + 0.045 * c_bar
    s_h = 1 + 0.015 * c_bar * t
    r_t = -torch.sin(rad(2 * d_theta)) * r_c
    tl, tc, th = dl / s_l, dc / s_c, d_big_h / s_h
    return torch.sqrt(tl * tl + tc * tc + th * th + r_t * tc * th)


def delta_e(fused_rgb: torch.Tensor, vis_rgb: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """dE: mean CIEDE2000 over pixels between visible and fused 8-bit RGB (B, 3, H, W) -> (B,) float64.

    Per-pixel arithmetic in float32 by default (about 3x faster than float64; per-pixel
    error < 1e-4, mean error ~1e-7 on the VIFB images, far inside the 1e-4 relative
    tolerance); the mean is accumulated in float64.
    """
    h, w = vis_rgb.shape[-2:]
    total = torch.zeros(vis_rgb.shape[0], dtype=torch.float64, device=vis_rgb.device)
    for i in range(vis_rgb.shape[0]):  # one image, one strip of rows at a time: stays in cache
        for r0, r1 in row_strips(h, 3 * w, vis_rgb.device):
            lab_vis = rgb8_to_lab(vis_rgb[i : i + 1, :, r0:r1], dtype)
            lab_fused = rgb8_to_lab(fused_rgb[i : i + 1, :, r0:r1], dtype)
            total[i] += ciede2000(lab_vis, lab_fused).to(torch.float64).sum()
    return total / (h * w)

