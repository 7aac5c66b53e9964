"""SSVIF fusion loss, Eq. 3: lambda1 L_int + lambda2 L_grad + lambda3 L_ssim + lambda4 L_color."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from kornia.color import rgb_to_ycbcr
from kornia.metrics import ssim

from pipeline.losses.gradients import sobel_magnitude


@dataclass(frozen=True)
class FusionLossWeights:
    """lambda1..lambda4 of Eq. 3 (params `loss.*` and the run's `lambda_color`)."""

    intensity: float = 20.0
    gradient: float = 20.0
    ssim: float = 10.0
    color: float = 20.0


def _match_channels(ir: torch.Tensor, fused: torch.Tensor) -> torch.Tensor:
    return ir.expand(-1, fused.shape[1], -1, -1) if ir.shape[1] != fused.shape[1] else ir


def intensity_loss(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """L_int = mean |F - max(I_ir, I_vis)|; all (B, C, H, W) in [0, 1] (ir may have 1 channel)."""
    return (fused - torch.maximum(_match_channels(ir, fused), vis)).abs().mean()


def gradient_loss(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """L_grad = mean ||grad F| - max(|grad I_ir|, |grad I_vis|)| with Sobel (|gx| + |gy|)."""
    target = torch.maximum(sobel_magnitude(_match_channels(ir, fused)), sobel_magnitude(vis))
    return (sobel_magnitude(fused) - target).abs().mean()


def ssim_loss(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """L_ssim = mean over j in {ir, vis} of 1 - SSIM(F, I_j) (11x11 Gaussian window, sigma 1.5)."""
    ir = _match_channels(ir, fused)
    s_ir = ssim(fused, ir, window_size=11, max_val=1.0).mean()
    s_vis = ssim(fused, vis, window_size=11, max_val=1.0).mean()
    return 1.0 - 0.5 * (s_ir + s_vis)


def color_loss(fused: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """L_color = mean over c in {Cb, Cr} of |F^c - I_vis^c| (BT.601 YCbCr, kornia).

    Only defined for RGB outputs; a single-channel (Y) run takes its colour from the
    visible CbCr by construction, so its colour loss is exactly 0.
    """
    if fused.shape[1] == 1:
        return fused.new_zeros(())
    return (rgb_to_ycbcr(fused)[:, 1:] - rgb_to_ycbcr(vis)[:, 1:]).abs().mean()


def fusion_loss(
    fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor, weights: FusionLossWeights
) -> dict[str, torch.Tensor]:
    """Eq. 3. fused, vis: (B, C, H, W) with C in {1, 3} (vis already Y when C = 1); ir: (B, 1|C, H, W).

    Returns the terms ``int``, ``grad``, ``ssim``, ``color`` and their weighted sum ``total``.
    """
    if fused.shape[1] != vis.shape[1]:
        raise ValueError(f"fused has {fused.shape[1]} channels but vis has {vis.shape[1]}: pass vis as Y for 1-channel runs")
    terms = {
        "int": intensity_loss(fused, ir, vis),
        "grad": gradient_loss(fused, ir, vis),
        "ssim": ssim_loss(fused, ir, vis),
        "color": color_loss(fused, vis),
    }
    terms["total"] = (
        weights.intensity * terms["int"]
        + weights.gradient * terms["grad"]
        + weights.ssim * terms["ssim"]
        + weights.color * terms["color"]
    )
    return terms
