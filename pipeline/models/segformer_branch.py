"""SSVIF segmentation model S: SegFormer trained from scratch, p^B = S(F(I_ir, I_vis)) (Sec. III-C).

Built from a transformers SegformerConfig with random initialisation: nothing is ever
downloaded (B3 in the paper: hidden sizes [64, 128, 320, 512], depths [3, 4, 18, 3]).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def segformer_config(n_classes: int, channels: int = 3, **sizes):
    """SegformerConfig from params `<profile>.segformer` (hidden_sizes, depths, num_attention_heads,
    decoder_hidden_size; any other SegformerConfig field passes through)."""
    from transformers import SegformerConfig

    return SegformerConfig(num_labels=n_classes, num_channels=channels, **sizes)


class SegmentationModel(nn.Module):
    """SegFormer whose logits (1/4 resolution) are upsampled bilinearly to the image size.

    forward(image (B, channels, H, W) in [0, 1]) -> logits (B, n, H, W).
    """

    def __init__(self, n_classes: int, channels: int = 3, **sizes):
        super().__init__()
        from transformers import SegformerForSemanticSegmentation

        self.net = SegformerForSemanticSegmentation(segformer_config(n_classes, channels, **sizes))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        logits = self.net(pixel_values=image).logits
        return F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)
