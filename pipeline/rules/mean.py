"""The `mean` rule: average of infrared and visible luminance."""
from __future__ import annotations

import torch

from pipeline.rules.luminance import fuse_luminance

# A fusion-rule plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 2, "function": "fuse_mean"}


def fuse_mean(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Average of infrared and visible luminance, visible chroma."""
    return fuse_luminance(ir, vis, lambda a, b: (a + b) / 2)
