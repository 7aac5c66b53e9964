"""EMMA's pseudo-sensing network (A_i, A_v; Zhao et al., CVPR 2024): a five-level U-Net that maps a
fused image back to one source (infrared or visible).

Attribute names follow MMIF-EMMA nets/Unet5.py so that its released Ai.pth / Av.pth (plain state
dicts) load directly with load_state_dict. Widths 64..1024, BatchNorm + ReLU double convolutions,
max-pool down, ConvTranspose(4, 2, 1) + ReLU up, sigmoid output; H and W must be multiples of 16.
Narrower ``widths`` (a quick stand-in) keep the same keys; only the released widths load Ai.pth / Av.pth.
"""
from __future__ import annotations

import torch
import torch.nn as nn

WIDTHS = (64, 128, 256, 512, 1024)
STRIDE = 2 ** (len(WIDTHS) - 1)  # four max-pools


class ConvBlock(nn.Module):
    """(conv3x3 + BN + ReLU) x 2; ``conv`` is a Sequential as in the original (keys conv.0, conv.1, conv.3, conv.4)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def _up(cin: int, cout: int) -> nn.Sequential:
    """ConvTranspose x2 (no bias) + ReLU; a Sequential so the key is up_sampleN.0.weight."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.ReLU())


class UNet5(nn.Module):
    """(B, input_channel, H, W) in [0, 1] -> (B, 1, H, W) in (0, 1)."""

    def __init__(self, input_channel: int = 1, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        if len(widths) != len(WIDTHS):
            raise ValueError(f"UNet5 has {len(WIDTHS)} levels: widths needs {len(WIDTHS)} numbers, got {list(widths)}")
        self.widths = tuple(int(w) for w in widths)
        c1, c2, c3, c4, c5 = self.widths
        self.down_sample = nn.MaxPool2d(2)
        self.down1, self.down2 = ConvBlock(input_channel, c1), ConvBlock(c1, c2)
        self.down3, self.down4, self.down5 = ConvBlock(c2, c3), ConvBlock(c3, c4), ConvBlock(c4, c5)
        self.up_sample5, self.up4 = _up(c5, c4), ConvBlock(2 * c4, c4)
        self.up_sample4, self.up3 = _up(c4, c3), ConvBlock(2 * c3, c3)
        self.up_sample3, self.up2 = _up(c3, c2), ConvBlock(2 * c2, c2)
        self.up_sample2, self.up1 = _up(c2, c1), ConvBlock(2 * c1, c1)
        self.last = nn.Sequential(nn.Conv2d(c1, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % STRIDE or w % STRIDE:
            raise ValueError(f"UNet5 needs H, W multiples of {STRIDE} (four 2x poolings), got {h}x{w}")
        d1 = self.down1(x)
        d2 = self.down2(self.down_sample(d1))
        d3 = self.down3(self.down_sample(d2))
        d4 = self.down4(self.down_sample(d3))
        out = self.down5(self.down_sample(d4))
        out = self.up4(torch.cat((self.up_sample5(out), d4), 1))  # upsampled first, skip second
        out = self.up3(torch.cat((self.up_sample4(out), d3), 1))
        out = self.up2(torch.cat((self.up_sample3(out), d2), 1))
        out = self.up1(torch.cat((self.up_sample2(out), d1), 1))
        return self.last(out)
