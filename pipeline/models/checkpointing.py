"""Activation checkpointing of a fusion model's blocks (params ``<profile>.train.checkpointing``).

A model (or sub-module) that derives from :class:`CheckpointedBlocks` calls each of its blocks
through :meth:`CheckpointedBlocks.run_block`. With checkpointing on, in training mode with
gradients enabled, a block keeps only its inputs in the forward pass and is run again in the
backward pass (``torch.utils.checkpoint``, ``use_reentrant=False``, RNG state preserved, so
drop-path draws the same masks): the same loss and gradients, the activations of one block at
a time instead of all of them. Off (the default) the blocks are called directly; in eval mode or
under ``torch.no_grad()`` checkpointing never applies.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


class CheckpointedBlocks:
    """Mixin for nn.Modules: ``self.checkpointing`` (False) and ``run_block(block, *args)``."""

    checkpointing: bool = False

    def run_block(self, block, *args):
        if self.checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(block, *args, use_reentrant=False)
        return block(*args)


def set_checkpointing(model: nn.Module, on: bool) -> nn.Module:
    """Turn checkpointing of every block of ``model`` on or off (in place); returns ``model``."""
    mixins = [m for m in model.modules() if isinstance(m, CheckpointedBlocks)]
    if on and not mixins:
        raise ValueError(f"{type(model).__name__} has no checkpointable blocks")
    for m in mixins:
        m.checkpointing = bool(on)
    return model
