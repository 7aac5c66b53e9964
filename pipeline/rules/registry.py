"""A rule by its params name (only its plugin module is imported), and a rule as a whole-image fuser."""
from __future__ import annotations

from typing import Callable

import torch

from pipeline import plugins
from pipeline.rules.names import PACKAGE, RULE_NAMES

Rule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def get_rule(name: str) -> Rule:
    return plugins.load(PACKAGE, name, "fusion rule")


def __getattr__(attr: str):
    if attr == "FUSION_RULES":  # {name: function} of every rule (imports them all: tests and tools only)
        return {name: get_rule(name) for name in RULE_NAMES}
    raise AttributeError(attr)


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
