"""EMMA's U-Fuser (Zhao et al., CVPR 2024): two 4-scale Restormer-CNN encoders, per-scale
fusion blocks, and a U-Net decoder.

Backbone = encoders + per-scale fusion; fused features = [f1 (c1 @ H), f2 (c2 @ H/2),
f3 (c3 @ H/4), f4 (c4 @ H/8)] with channels [8, 16, 32, 32] in the paper. Parameters at
paper widths: 1,518,091 (3 channels), 1,517,657 (1 channel).
Input is reflect-padded to a multiple of 8 (three stride-2 stages); the features are cropped
back to ceil(H / 2^k) so the segmentation head sees the image area only, and the decoder crops
each upsampled map to its skip's size, so decode works at any size (inputs of at least 9x9). (At sizes that are
multiples of 8 this is exactly the original computation.)
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from pipeline.models.checkpointing import CheckpointedBlocks
from pipeline.models.padding import crop_to, pad_to_multiple
from pipeline.models.restormer_blocks import RestormerCNNBlock, conv3x3

STRIDE = 8  # three stride-2 downsamplings
MIN_SIZE = 9  # the H/8 features need 2 pixels for their reflect-padded convolutions


class EMMAEncoder(CheckpointedBlocks, nn.Module):
    """One modality: RC blocks at H, H/2, H/4, H/8 joined by bias-free stride-2 reflect convs."""

    def __init__(self, channels: int, widths: list[int], num_heads: int):
        super().__init__()
        cins = [channels] + list(widths[:-1])
        self.blocks = nn.ModuleList(RestormerCNNBlock(cin, c, num_heads) for cin, c in zip(cins, widths))
        self.downs = nn.ModuleList(
            nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False, padding_mode="reflect") for c in widths[:-1])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        scales = [self.run_block(self.blocks[0], x)]
        for down, block in zip(self.downs, self.blocks[1:]):
            scales.append(self.run_block(block, down(scales[-1])))
        return scales


# A fusion-model plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 3, "class": "EMMA"}


class EMMA(CheckpointedBlocks, nn.Module):
    """U-Fuser for C-channel inputs. features(ir, vis) -> [f1, f2, f3, f4]; decode -> (B, C, H, W) in [0, 1]."""

    def __init__(self, channels: int = 1, widths: list[int] = (8, 16, 32, 32), num_heads: int = 8):
        """channels: image channels (1 or 3); widths: feature channels per scale; num_heads: MDTA heads."""
        super().__init__()
        widths = list(widths)
        if len(widths) != 4:
            raise ValueError(f"EMMA needs 4 channel widths, got {widths}")
        self.channels = channels
        self.feature_channels = widths
        self.ir_encoder = EMMAEncoder(channels, widths, num_heads)
        self.vis_encoder = EMMAEncoder(channels, widths, num_heads)
        self.fuse = nn.ModuleList(RestormerCNNBlock(2 * c, c, num_heads) for c in widths)
        c1, c2, c3, c4 = widths
        self.de4 = RestormerCNNBlock(c4, c4, num_heads)
        self.up4 = nn.ConvTranspose2d(c4, c3, 4, 2, 1, bias=False)
        self.de3 = RestormerCNNBlock(2 * c3, c3, num_heads)
        self.up3 = nn.ConvTranspose2d(c3, c2, 4, 2, 1, bias=False)
        self.de2 = RestormerCNNBlock(2 * c2, c2, num_heads)
        self.up2 = nn.ConvTranspose2d(c2, c1, 4, 2, 1, bias=False)
        self.de1 = RestormerCNNBlock(2 * c1, c1, num_heads)
        self.last = conv3x3(c1, channels, bias=True)

    def features(self, ir: torch.Tensor, vis: torch.Tensor) -> list[torch.Tensor]:
        h, w = ir.shape[-2:]
        if min(h, w) < MIN_SIZE:
            raise ValueError(f"EMMA needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels, got {h}x{w}: "
                             "its 1/8-scale reflect-padded convolutions need 2 pixels")
        ir_scales = self.ir_encoder(pad_to_multiple(ir, STRIDE))
        vis_scales = self.vis_encoder(pad_to_multiple(vis, STRIDE))
        fused = []
        for k, (fuse, i, v) in enumerate(zip(self.fuse, ir_scales, vis_scales)):
            f = self.run_block(fuse, torch.cat([i, v], 1))  # infrared first, as the original
            fused.append(crop_to(f, math.ceil(h / 2**k), math.ceil(w / 2**k)))
        return fused

    def decode(self, features: list[torch.Tensor]) -> torch.Tensor:
        f1, f2, f3, f4 = features
        x = self._up(self.up4, self.run_block(self.de4, f4), f3)
        x = self._up(self.up3, self.run_block(self.de3, torch.cat([x, f3], 1)), f2)
        x = self._up(self.up2, self.run_block(self.de2, torch.cat([x, f2], 1)), f1)
        x = self.run_block(self.de1, torch.cat([x, f1], 1))
        return torch.sigmoid(self.last(x))

    @staticmethod
    def _up(up: nn.Module, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """ConvTranspose x2 + ReLU, cropped to the skip connection's size."""
        return crop_to(torch.relu(up(x)), *skip.shape[-2:])

    def forward(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        return self.decode(self.features(ir, vis))
