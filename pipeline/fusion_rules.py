"""Classical fusion rules and source-only baselines (Table rows "max", "mean", "visible", "infrared").

Images are float tensors in [0, 1]: infrared (B, 1, H, W), visible (B, 3, H, W); every rule
returns RGB (B, 3, H, W). The luminance rules fuse BT.601 Y and keep the visible Cb, Cr.
"""
from __future__ import annotations

from typing import Callable

import torch
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb

from pipeline.fusion_rule_names import RULE_NAMES


def _fuse_luminance(ir: torch.Tensor, vis: torch.Tensor, combine) -> torch.Tensor:
    ycbcr = rgb_to_ycbcr(vis)
    y = combine(ir, ycbcr[:, :1])
    return ycbcr_to_rgb(torch.cat([y, ycbcr[:, 1:]], 1)).clamp(0, 1)


def fuse_max(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Per-pixel maximum of infrared and visible luminance, visible chroma."""
    return _fuse_luminance(ir, vis, torch.maximum)


def fuse_mean(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Average of infrared and visible luminance, visible chroma."""
    return _fuse_luminance(ir, vis, lambda a, b: (a + b) / 2)


def visible_only(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """The visible image itself (a source-only baseline)."""
    return vis.clone()


def infrared_only(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Infrared gray replicated to RGB (a source-only baseline)."""
    return ir.expand(-1, 3, -1, -1).clone()


FUSION_RULES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "max": fuse_max,
    "mean": fuse_mean,
    "visible": visible_only,
    "infrared": infrared_only,
}
if tuple(FUSION_RULES) != RULE_NAMES:  # params validation reads the torch-free list
    raise ImportError(f"FUSION_RULES {tuple(FUSION_RULES)} != pipeline.fusion_rule_names {RULE_NAMES}")


def get_rule(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if name not in FUSION_RULES:
        raise KeyError(f"unknown fusion rule {name!r}; valid names: {', '.join(FUSION_RULES)}")
    return FUSION_RULES[name]


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """[0, 1] float (B, C, H, W) -> uint8 (B, H, W, C) for PNG writing (rounded, clipped)."""
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def rule_fuser(name: str):
    """The rule as a `pipeline.fuse.images.Fuser`: uint8 ir (H, W), vis (H, W, 3) -> uint8 RGB (H, W, 3)."""
    from pipeline.fuse.images import to_tensors

    rule = get_rule(name)

    @torch.inference_mode()
    def fuse(ir, vis):
        return to_uint8(rule(*to_tensors(ir, vis)))[0].numpy()

    return fuse
