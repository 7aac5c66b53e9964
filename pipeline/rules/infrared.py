"""The `infrared` rule: the infrared image alone, grey as RGB (a source-only baseline)."""
from __future__ import annotations

import torch

# A fusion-rule plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 4, "function": "infrared_only"}


def infrared_only(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """Infrared gray replicated to RGB (a source-only baseline)."""
    return ir.expand(-1, 3, -1, -1).clone()
