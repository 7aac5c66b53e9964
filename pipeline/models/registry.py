"""Fusion model registry: params name -> class, and the factory the stages call.

Widths are the keys of params ``<profile>.models.<name>``; the paper values reproduce the
original architectures' parameter counts exactly (tests/models/test_models.py,
``test_parameter_count_at_paper_widths``; the counts: docs/models.md, "Parameter and FLOP targets").
"""
from __future__ import annotations

import torch.nn as nn

from pipeline import plugins
from pipeline.models.names import FUSION_MODEL_NAMES, PACKAGE


def model_class(name: str) -> type[nn.Module]:
    """The class of fusion model `name` (its plugin module is imported, no other)."""
    try:
        return plugins.load(PACKAGE, name, "fusion model")
    except KeyError as error:
        raise ValueError(error.args[0]) from None


def __getattr__(attr: str):
    if attr == "FUSION_MODELS":  # {name: class} of every fusion model (imports them all: tests and tools only)
        return {name: model_class(name) for name in FUSION_MODEL_NAMES}
    raise AttributeError(attr)


def create_fusion_model(name: str, channels: int, **widths) -> nn.Module:
    """Build fusion model ``name`` for ``channels`` (1 or 3) input/output channels.

    The model has ``features(ir, vis)``, ``decode(features)``, ``forward(ir, vis)`` and
    ``feature_channels``; inputs (B, channels, H, W) in [0, 1], any H, W.
    """
    cls = model_class(name)
    if channels not in (1, 3):
        raise ValueError(f"fusion model {name!r}: channels={channels!r}; valid values: 1, 3")
    try:
        return cls(channels=channels, **widths)
    except TypeError as error:
        raise ValueError(f"fusion model {name!r}: bad widths {sorted(widths)} ({error}); "
                         f"use the keys of params <profile>.models.{name}") from error
