"""A tiny fusion model with the pipeline.models interface, for fast trainer tests."""
from __future__ import annotations

import torch
from torch import nn


class StandInFusion(nn.Module):
    """features(ir, vis) -> (B, width, H, W); decode -> (B, C, H, W) in [0, 1]."""

    def __init__(self, channels: int = 3, width: int = 4):
        super().__init__()
        self.feature_channels = width
        self.encode = nn.Conv2d(2 * channels, width, 3, padding=1)
        self.out = nn.Conv2d(width, channels, 3, padding=1)

    def features(self, ir, vis):
        return torch.relu(self.encode(torch.cat([ir, vis], dim=1)))

    def decode(self, features):
        return torch.sigmoid(self.out(features))

    def forward(self, ir, vis):
        return self.decode(self.features(ir, vis))


def toy_batches(count: int = 3, batch: int = 2, size: int = 32, seed: int = 0) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    return [
        {"ir": torch.rand(batch, 1, size, size, generator=g), "vis": torch.rand(batch, 3, size, size, generator=g)}
        for _ in range(count)
    ]
