"""What a fusion model is fed, in one place for training, validation and fusing.

`unit_images` turns a decoded pair (uint8) into [0, 1] tensors (the training data, PairDataset, and
the fuse path, pipeline.fuse.images, both call it), and `prepare_inputs` turns a batch of those into
the model's two arguments, in the order (infrared, visible): 3-channel runs see RGB and IR x3,
1-channel runs see Y and IR. The training step (pipeline.train.step.fusion_forward) and the fuse
path (pipeline.fuse.images.fuse_arrays) both call it, so a model is fused exactly as it was trained
(tests/fuse/test_train_fuse_inputs.py).
"""
from __future__ import annotations

import numpy as np
import torch
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb


def unit_images(ir: np.ndarray, vis: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 infrared (H, W) and visible RGB (H, W, 3), 0-255 -> ir (1, H, W), vis (3, H, W) float32 in [0, 1].

    vis is a channels-first view of its (copied) array, not contiguous: callers keep the memory
    layout they always had (a layout can change a kernel's float rounding, never the values fed).
    """
    ir_t = torch.from_numpy(np.array(ir, copy=True)).float().div(255)[None]
    vis_t = torch.from_numpy(np.array(vis, copy=True)).float().div(255).permute(2, 0, 1)
    return ir_t, vis_t


def prepare_inputs(ir: torch.Tensor, vis: torch.Tensor, channels: int,
                   device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch ir (B, 1, H, W), vis (B, 3, H, W) in [0, 1] -> the model's (ir_in, vis_in) on ``device``.

    The one preparation of a fusion model's inputs: `model(*prepare_inputs(...))`, infrared first.
    """
    if device is not None:
        ir, vis = ir.to(device), vis.to(device)
    return model_inputs(ir, vis, channels)


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
