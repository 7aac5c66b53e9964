"""SeAFusion (Tang et al., Information Fusion 2022): dense + gradient residual (RGBD) encoders.

Backbone = the two encoders (visible, infrared; separate weights); fused features = their
concatenation, 6w channels at full resolution (w = 16 in the paper: 96 channels). Decoder =
four 3x3 convolutions, tanh(x)/2 + 0.5. Each decoder layer registers a BatchNorm2d that the
original forward never calls: kept because Table IV counts it (230 parameters at 3 channels).
Parameters at w = 16: 167,753 (3 channels), 166,883 (1 channel).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.models.checkpointing import CheckpointedBlocks

SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def conv_lrelu(conv: nn.Conv2d, x: torch.Tensor, slope: float = 0.2) -> torch.Tensor:
    """LeakyReLU(conv(x)), the original's ConvLeakyRelu2d."""
    return F.leaky_relu(conv(x), negative_slope=slope)


class SobelGradient(nn.Module):
    """|Sobel_x * x| + |Sobel_y * x| per channel: trainable bias-free depthwise 3x3 convolutions
    initialised to the Sobel kernels. (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv_x = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.conv_y = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        kernel_x = torch.tensor(SOBEL_X)
        with torch.no_grad():
            self.conv_x.weight.copy_(kernel_x.expand(channels, 1, 3, 3))
            self.conv_y.weight.copy_(kernel_x.t().expand(channels, 1, 3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_x(x).abs() + self.conv_y(x).abs()


class RGBD(nn.Module):
    """Residual gradient dense block cin -> cout: dense path (two 3x3 convs, concatenated,
    1x1 down) + gradient path (Sobel magnitude, 1x1 up), summed, LeakyReLU(0.1)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.dense1 = nn.Conv2d(cin, cin, 3, padding=1)
        self.dense2 = nn.Conv2d(2 * cin, cin, 3, padding=1)
        self.conv_down = nn.Conv2d(3 * cin, cout, 1)
        self.sobel = SobelGradient(cin)
        self.conv_up = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dense = torch.cat([x, conv_lrelu(self.dense1, x)], 1)
        dense = torch.cat([dense, conv_lrelu(self.dense2, dense)], 1)
        return F.leaky_relu(self.conv_down(dense) + self.conv_up(self.sobel(x)), negative_slope=0.1)


class SeAFusionEncoder(CheckpointedBlocks, nn.Module):
    """One modality: conv3x3 C -> w, RGBD(w -> 2w), RGBD(2w -> 3w). (B, C, H, W) -> (B, 3w, H, W)."""

    def __init__(self, channels: int, width: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, width, 3, padding=1)
        self.rgbd1 = RGBD(width, 2 * width)
        self.rgbd2 = RGBD(2 * width, 3 * width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_block(self.rgbd2, self.run_block(self.rgbd1, conv_lrelu(self.conv, x)))


class DecoderLayer(nn.Module):
    """conv3x3 with the original's registered-but-unused BatchNorm2d (counted by Table IV)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)  # never called, as in the original

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


# A fusion-model plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 2, "class": "SeAFusion"}


class SeAFusion(nn.Module):
    """SeAFusion for C-channel inputs (1: Y / IR, 3: RGB / IR repeated).

    features(ir, vis) -> (B, 6w, H, W) = concat(visible, infrared) encoder features;
    decode(features) -> (B, C, H, W) in [0, 1]. Works at any H, W (no padding needed).
    """

    def __init__(self, channels: int = 1, width: int = 16):
        super().__init__()
        self.channels = channels
        self.feature_channels = 6 * width
        self.vis_encoder = SeAFusionEncoder(channels, width)
        self.ir_encoder = SeAFusionEncoder(channels, width)
        self.decode4 = DecoderLayer(6 * width, 4 * width)
        self.decode3 = DecoderLayer(4 * width, 2 * width)
        self.decode2 = DecoderLayer(2 * width, width)
        self.decode1 = DecoderLayer(width, channels)

    def features(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.vis_encoder(vis), self.ir_encoder(ir)], 1)

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        x = features
        for layer in (self.decode4, self.decode3, self.decode2):
            x = F.leaky_relu(layer(x), negative_slope=0.2)
        return torch.tanh(self.decode1(x)) / 2 + 0.5  # the original's ConvBnTanh2d output

    def forward(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        return self.decode(self.features(ir, vis))
