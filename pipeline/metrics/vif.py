"""VIF: Sheikh-Bovik pixel-domain multi-scale visual information fidelity.

Same numbers as CDDFuse's ``VIFF`` / the toolkit's ``vifp_mscale`` (reference/metrics.md),
with separable Gaussian windows, both sources against one set of F maps, strip by strip.
"""
from __future__ import annotations

import torch

from pipeline.metrics.filters import (
    FILTER_STRIP_ELEMENTS, filter_valid, gaussian_kernel1d, image_strips, moment_stack, separable_valid,
)

SIGMA_NSQ = 2.0  # HVS noise variance sigma_n^2
EPS = 1e-10


def _strip_terms(ref: torch.Tensor, dist: torch.Tensor, win: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Numerator and denominator sums (B, C) of one scale over the 'valid' outputs of a strip."""
    c = ref.shape[1]
    # the five local moments filtered as one stack: two matrix products in all
    maps = moment_stack(ref, dist)
    mu1, mu2, e11, e22, e12 = filter_valid(maps, win).split([c, 1, c, 1, c], 1)
    sigma1_sq = (e11 - mu1 * mu1).clamp_min(0)
    sigma2_sq = (e22 - mu2 * mu2).clamp_min(0)
    sigma12 = e12 - mu1 * mu2
    sigma2_sq = sigma2_sq.expand_as(sigma1_sq)

    g = sigma12 / (sigma1_sq + EPS)
    sv_sq = sigma2_sq - g * sigma12
    # The reference's clamps, applied in its order: (1) sigma1^2 < eps: g = 0, sv^2 = sigma2^2,
    # sigma1^2 = 0; (2) sigma2^2 < eps: g = 0, sv^2 = 0; (3) g < 0: sv^2 = sigma2^2, g = 0;
    # (4) sv^2 >= eps. Folded into one mask per result (same values, fewer passes): a g
    # zeroed by (1) is not negative in (3), and (2) overrides (1) and (3).
    flat_ref = sigma1_sq < EPS
    flat_dist = sigma2_sq < EPS
    negative = g < 0
    sv_sq = torch.where(flat_ref | negative, sigma2_sq, sv_sq).masked_fill_(flat_dist, 0.0).clamp_min_(EPS)
    g = g.masked_fill_(flat_ref | flat_dist | negative, 0.0)
    sigma1_sq = sigma1_sq.masked_fill_(flat_ref, 0.0)

    num = torch.log10(1 + g * g * sigma1_sq / (sv_sq + SIGMA_NSQ)).sum((-2, -1))
    den = torch.log10(1 + sigma1_sq / SIGMA_NSQ).sum((-2, -1))
    return num, den


def vif_per_source(ref: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """VIF(ref_c, dist) for each channel c of ref (B, C, H, W) against dist (B, 1, H, W) -> (B, C).

    float64, values 0..255. A NaN (0/0: a constant source) is returned as 1.0, the
    reference's rule.
    """
    ref = ref.to(torch.float64)
    dist = dist.to(torch.float64)
    num = torch.zeros(ref.shape[:2], dtype=torch.float64, device=ref.device)
    den = torch.zeros_like(num)
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1  # 17, 9, 5, 3
        win = gaussian_kernel1d(n, n / 5.0)
        if scale > 1:  # low-pass then subsample by 2
            ref = separable_valid(ref, win, step=2)
            dist = separable_valid(dist, win, step=2)
        for i, ref_strip, dist_strip in image_strips(ref, dist, n, FILTER_STRIP_ELEMENTS):
            s_num, s_den = _strip_terms(ref_strip, dist_strip, win)
            num[i] += s_num[0]
            den[i] += s_den[0]
    value = num / den
    return torch.where(torch.isnan(value), 1.0, value)


def vif_sum(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """VIF = VIF(A, F) + VIF(B, F); gray (B, 1, H, W) each -> (B,)."""
    return vif_per_source(torch.cat([a, b], 1), f).sum(1)
