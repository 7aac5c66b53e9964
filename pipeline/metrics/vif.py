"""VIF: Sheikh-Bovik pixel-domain multi-scale visual information fidelity.

Same numbers as CDDFuse's ``VIFF`` / the toolkit's ``vifp_mscale`` (docs/metrics.md),
with separable Gaussian windows, both sources against one set of F maps, strip by strip.
"""
from __future__ import annotations

import numpy as np

from pipeline.metrics.filters import (
    FILTER_STRIP_ELEMENTS, filter_valid, gaussian_kernel1d, image_strips, moment_stack, separable_valid,
)

SIGMA_NSQ = 2.0  # HVS noise variance sigma_n^2
EPS = 1e-10


def _strip_terms(ref: np.ndarray, dist: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator sums (C,) of one scale over the 'valid' outputs of a strip."""
    c = ref.shape[0]
    maps = filter_valid(moment_stack(ref, dist), win)  # the five local moments filtered as one stack
    mu1, mu2, e11, e22, e12 = np.split(maps, [c, c + 1, 2 * c + 1, 2 * c + 2])
    sigma1_sq = np.maximum(e11 - mu1 * mu1, 0.0)
    sigma2_sq = np.broadcast_to(np.maximum(e22 - mu2 * mu2, 0.0), sigma1_sq.shape)
    sigma12 = e12 - mu1 * mu2

    g = sigma12 / (sigma1_sq + EPS)
    sv_sq = sigma2_sq - g * sigma12
    # The reference's clamps, applied in its order: (1) sigma1^2 < eps: g = 0, sv^2 = sigma2^2,
    # sigma1^2 = 0; (2) sigma2^2 < eps: g = 0, sv^2 = 0; (3) g < 0: sv^2 = sigma2^2, g = 0;
    # (4) sv^2 >= eps. Folded into one mask per result (same values, fewer passes): a g
    # zeroed by (1) is not negative in (3), and (2) overrides (1) and (3).
    flat_ref = sigma1_sq < EPS
    flat_dist = sigma2_sq < EPS
    negative = g < 0
    sv_sq = np.where(flat_ref | negative, sigma2_sq, sv_sq)
    sv_sq[flat_dist] = 0.0
    np.maximum(sv_sq, EPS, out=sv_sq)
    g[flat_ref | flat_dist | negative] = 0.0
    sigma1_sq[flat_ref] = 0.0

    num = np.log10(1 + g * g * sigma1_sq / (sv_sq + SIGMA_NSQ)).sum((-2, -1))
    den = np.log10(1 + sigma1_sq / SIGMA_NSQ).sum((-2, -1))
    return num, den


def vif_per_source(ref: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """VIF(ref_c, dist) for each channel c of ref (C, H, W) against dist (1, H, W) -> (C,).

    float64, values 0..255. A NaN (0/0: a constant source) is returned as 1.0, the
    reference's rule.
    """
    ref = ref.astype(np.float64)
    dist = dist.astype(np.float64)
    num = np.zeros(ref.shape[0])
    den = np.zeros_like(num)
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1  # 17, 9, 5, 3
        win = gaussian_kernel1d(n, n / 5.0)
        if scale > 1:  # low-pass then subsample by 2
            ref = separable_valid(ref, win, step=2)
            dist = separable_valid(dist, win, step=2)
        for ref_strip, dist_strip in image_strips(ref, dist, n, FILTER_STRIP_ELEMENTS):
            s_num, s_den = _strip_terms(ref_strip, dist_strip, win)
            num += s_num
            den += s_den
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num / den
    return np.where(np.isnan(value), 1.0, value)


def vif_sum(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIF = VIF(A, F) + VIF(B, F) of gray (H, W) images."""
    return float(vif_per_source(np.stack([a, b]), f[None]).sum())
