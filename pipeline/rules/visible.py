"""The `visible` rule: the visible image alone (a source-only baseline)."""
from __future__ import annotations

import torch

# A fusion-rule plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 3, "function": "visible_only"}


def visible_only(ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """The visible image itself (a source-only baseline)."""
    return vis.clone()
