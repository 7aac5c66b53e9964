"""torch.compile of a fusion model (params ``<profile>.train.compile``, off in both profiles).

The trainer calls ``features`` and ``decode`` (not ``forward``), so those two methods are
compiled, on the instance: parameter names and the state_dict stay those of the plain model.
Compiled kernels may round differently from eager ones (fused operations), so a compiled run
is not bit-identical to an eager one: that is why the switch is off unless a user turns it on.
"""
from __future__ import annotations

import torch
from torch import nn


def compile_fusion_model(model: nn.Module, **options) -> nn.Module:
    """Compile ``model.features`` and ``model.decode`` in place (``torch.compile(**options)``)."""
    for name in ("features", "decode"):
        setattr(model, name, torch.compile(getattr(model, name), **options))
    return model
