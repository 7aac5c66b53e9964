"""Model inputs from a batch: 3-channel runs see RGB and IR x3, 1-channel runs see Y and IR."""
from __future__ import annotations

import torch
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb


def model_inputs(ir: torch.Tensor, vis: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ir (B, 1, H, W), vis (B, 3, H, W) in [0, 1] -> (ir_in, vis_in), both (B, channels, H, W).

    channels = 1: the visible luminance Y (BT.601); channels = 3: RGB and the infrared repeated.
    """
    if channels == 1:
        return ir, rgb_to_ycbcr(vis)[:, :1]
    if channels == 3:
        return ir.expand(-1, 3, -1, -1), vis
    raise ValueError(f"channels must be 1 or 3, got {channels}")


def to_rgb(fused: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Fused output (B, 1|3, H, W) -> RGB in [0, 1]; a Y output takes the visible CbCr (BT.601)."""
    fused = fused.clamp(0, 1)
    if fused.shape[1] == 3:
        return fused
    cbcr = rgb_to_ycbcr(vis)[:, 1:]
    return ycbcr_to_rgb(torch.cat([fused, cbcr], dim=1)).clamp(0, 1)
