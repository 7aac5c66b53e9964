"""Fusion model registry: params name -> class, and the factory the stages call.

Widths are the keys of params ``<profile>.models.<name>``; the paper values reproduce the
original architectures' parameter counts exactly (tests/models/test_models.py,
``test_parameter_count_at_paper_widths``; the counts: docs/models.md, "Parameter and FLOP targets").
"""
from __future__ import annotations

import torch.nn as nn

from pipeline.models.emma import EMMA
from pipeline.models.names import FUSION_MODEL_NAMES
from pipeline.models.seafusion import SeAFusion
from pipeline.models.swinfusion import SwinFusion

FUSION_MODELS: dict[str, type[nn.Module]] = {
    "swinfusion": SwinFusion,
    "seafusion": SeAFusion,
    "emma": EMMA,
}
if tuple(FUSION_MODELS) != FUSION_MODEL_NAMES:  # params validation reads the torch-free list
    raise ImportError(f"FUSION_MODELS {tuple(FUSION_MODELS)} != pipeline.models.names {FUSION_MODEL_NAMES}")


def create_fusion_model(name: str, channels: int, **widths) -> nn.Module:
    """Build fusion model ``name`` for ``channels`` (1 or 3) input/output channels.

    The model has ``features(ir, vis)``, ``decode(features)``, ``forward(ir, vis)`` and
    ``feature_channels``; inputs (B, channels, H, W) in [0, 1], any H, W.
    """
    if name not in FUSION_MODELS:
        raise ValueError(f"unknown fusion model {name!r}; valid names: {', '.join(sorted(FUSION_MODELS))}")
    if channels not in (1, 3):
        raise ValueError(f"fusion model {name!r}: channels={channels!r}; valid values: 1, 3")
    try:
        return FUSION_MODELS[name](channels=channels, **widths)
    except TypeError as error:
        raise ValueError(f"fusion model {name!r}: bad widths {sorted(widths)} ({error}); "
                         f"use the keys of params <profile>.models.{name}") from error
