"""The `max` rule: per-pixel maximum of infrared and visible luminance."""
from __future__ import annotations

import torch

from pipeline.rules.luminance import fuse_luminance

# A fusion-rule plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 1, "function": "fuse_max"}


def fuse_max(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Per-pixel maximum of infrared and visible luminance, visible chroma."""
    return fuse_luminance(ir, vis, torch.maximum)
