"""SSVIF segmentation head H: the feature-level branch p^A = H(B(I_ir, I_vis)) (Sec. III-C)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gather_features(features: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
    """One map from the backbone's fused features.

    A tensor (B, C, H, W) passes through; a multi-scale list (EMMA's f1..f4) becomes f1
    concatenated with f2..fk upsampled (bilinear) to f1's size: (B, sum C_k, H1, W1).
    """
    if isinstance(features, torch.Tensor):
        return features
    first = features[0]
    size = first.shape[-2:]
    ups = [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in features[1:]]
    return torch.cat([first, *ups], dim=1)


class SegmentationHead(nn.Module):
    """Two 3x3 conv + BN + ReLU at the feature width, then a 1x1 conv to n classes (paper Sec. III-C).

    in_channels: the backbone's feature channels (int, or a list summed for multi-scale
    features). forward(features, size) -> logits (B, n, *size), upsampled bilinearly when the
    features are not at image resolution.
    """

    def __init__(self, in_channels: int | list[int], n_classes: int, width: int | None = None):
        super().__init__()
        in_channels = sum(in_channels) if isinstance(in_channels, (list, tuple)) else int(in_channels)
        width = width or in_channels  # open in the paper: the feature width
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, n_classes, 1),
        )

    def forward(self, features, size: tuple[int, int] | None = None) -> torch.Tensor:
        logits = self.layers(gather_features(features))
        if size is not None and tuple(logits.shape[-2:]) != tuple(size):
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        return logits
