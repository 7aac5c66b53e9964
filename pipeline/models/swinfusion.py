"""SwinFusion (Ma et al., IEEE/CAA JAS 2022), infrared-visible configuration.

Shallow convs (shared by both inputs) -> intra-domain Swin extraction per input -> cross-domain
fusion groups (self-attention per input, then cross-attention) -> concat -> conv: the fused
features, ``embed_dim`` channels at full resolution (backbone). Reconstruction Swin blocks and
three convs form the decoder. Parameters at paper widths (embed 60, 6 heads, window 8, MLP 2,
depths 4 / 2x2 / 4): 975,033 (3 channels), 973,681 (1 channel); the original registers a second
pair of shallow convolutions ("B") that it never calls: kept, Table IV counts them.

Input is reflect-padded to a multiple of the window; features are cropped back to H x W (so the
segmentation head sees the image area only) and the decoder pads them again: at sizes that are
multiples of the window this is exactly the original computation.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from pipeline.models.checkpointing import CheckpointedBlocks
from pipeline.models.padding import crop_to, pad_to_multiple
from pipeline.models.swin_blocks import CrossSwinBlock, shifted_window_mask, swin_stack

RGB_MEAN = (0.4488, 0.4371, 0.4040)  # subtracted from 3-channel inputs, added back at the end
FUSION_GROUPS = 2  # cross-domain fusion groups of the original (Fusion_depths = [2, 2])
DROP_PATH = 0.1  # stochastic depth, linear from 0 within each of extraction / fusion / reconstruction


def _rates(n: int) -> list[float]:
    return torch.linspace(0, DROP_PATH, n).tolist() if n > 0 else []


def _init_weights(module: nn.Module) -> None:
    """The original's initialisation: truncated normal (std 0.02) linear weights, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H*W, C)."""
    return x.flatten(2).transpose(1, 2)


def to_image(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, H*W, C) -> (B, C, H, W)."""
    return x.transpose(1, 2).reshape(x.shape[0], -1, *size)


# A fusion-model plugin (pipeline.plugins): its name is this file's.
PLUGIN = {"order": 1, "class": "SwinFusion"}


class SwinFusion(CheckpointedBlocks, nn.Module):
    """SwinFusion for C-channel inputs. features(ir, vis) -> (B, embed_dim, H, W); decode -> (B, C, H, W)."""

    def __init__(self, channels: int = 1, embed_dim: int = 60, num_heads: int = 6, window_size: int = 8,
                 mlp_ratio: float = 2.0, depth_extract: int = 4, depth_fusion: int = 2, depth_recon: int = 4,
                 fusion_residual: bool = True):
        """fusion_residual: add each fusion group's input back after its self- and cross-attention
        blocks (network_swinfusion.py); False is network_swinfusion1.py, which the released
        checkpoint's test script builds (pipeline/originals)."""
        super().__init__()
        if embed_dim % num_heads or embed_dim % 4:
            raise ValueError(f"SwinFusion: embed_dim {embed_dim} must be divisible by num_heads {num_heads} and 4")
        self.channels, self.window_size = channels, window_size
        self.fusion_residual = fusion_residual
        self.feature_channels = embed_dim
        half = embed_dim // 2
        self.register_buffer("mean", torch.tensor(RGB_MEAN if channels == 3 else (0.0,)).view(1, -1, 1, 1),
                             persistent=False)
        self.conv_first1_A = nn.Conv2d(channels, half, 3, 1, 1)
        self.conv_first2_A = nn.Conv2d(half, embed_dim, 3, 1, 1)
        self.conv_first1_B = nn.Conv2d(channels, half, 3, 1, 1)  # registered, never called (original)
        self.conv_first2_B = nn.Conv2d(half, half, 3, 1, 1)  # registered, never called (original)
        self.patch_norm = nn.LayerNorm(embed_dim)  # one LayerNorm shared by every tokenisation
        args = (embed_dim, num_heads, window_size, mlp_ratio)
        self.extract_a = swin_stack(depth_extract, *args, _rates(depth_extract))
        self.extract_b = swin_stack(depth_extract, *args, _rates(depth_extract))
        self.norm_extract_a = nn.LayerNorm(embed_dim)
        self.norm_extract_b = nn.LayerNorm(embed_dim)
        fusion_rates = _rates(FUSION_GROUPS * depth_fusion)
        self.fusion = nn.ModuleList()
        for g in range(FUSION_GROUPS):
            rates = fusion_rates[g * depth_fusion:(g + 1) * depth_fusion]
            self.fusion.append(nn.ModuleDict({
                "self_a": swin_stack(depth_fusion, *args, rates),
                "self_b": swin_stack(depth_fusion, *args, rates),
                "cross": swin_stack(depth_fusion, *args, rates, block=CrossSwinBlock),
            }))
        self.norm_fusion_a = nn.LayerNorm(embed_dim)
        self.norm_fusion_b = nn.LayerNorm(embed_dim)
        self.conv_after_fusion = nn.Conv2d(2 * embed_dim, embed_dim, 3, 1, 1)
        self.recon = swin_stack(depth_recon, *args, _rates(depth_recon))
        self.norm_recon = nn.LayerNorm(embed_dim)
        self.conv_last1 = nn.Conv2d(embed_dim, half, 3, 1, 1)
        self.conv_last2 = nn.Conv2d(half, half // 2, 3, 1, 1)
        self.conv_last3 = nn.Conv2d(half // 2, channels, 3, 1, 1)
        self.apply(_init_weights)

    def _mask(self, size: tuple[int, int], device) -> torch.Tensor:
        return shifted_window_mask(*size, self.window_size, self.window_size // 2, device=device)

    def _extract(self, x, blocks, norm, mask):
        """Shallow convs (the 'A' pair for both inputs, as the original) + Swin extraction -> tokens."""
        x = F.leaky_relu(self.conv_first2_A(F.leaky_relu(self.conv_first1_A(x), 0.2)), 0.2)
        size = x.shape[-2:]
        t = self.patch_norm(to_tokens(x))
        for block in blocks:
            t = self.run_block(block, t, size, mask)
        return norm(t)

    def features(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        """ir, vis (B, C, H, W) in [0, 1] -> fused features (B, embed_dim, H, W)."""
        h, w = ir.shape[-2:]
        a = pad_to_multiple(ir - self.mean, self.window_size)
        b = pad_to_multiple(vis - self.mean, self.window_size)
        size = tuple(a.shape[-2:])
        mask = self._mask(size, a.device)
        ta = self.patch_norm(self._extract(a, self.extract_a, self.norm_extract_a, mask))
        tb = self.patch_norm(self._extract(b, self.extract_b, self.norm_extract_b, mask))
        for group in self.fusion:
            sa, sb = ta, tb
            for block in group["self_a"]:
                ta = self.run_block(block, ta, size, mask)
            for block in group["self_b"]:
                tb = self.run_block(block, tb, size, mask)
            if self.fusion_residual:
                ta, tb = ta + sa, tb + sb  # intra-modal residual (network_swinfusion.py CRSTB)
            ca, cb = ta, tb
            for block in group["cross"]:
                ta, tb = self.run_block(block, ta, tb, size, mask)
            if self.fusion_residual:
                ta, tb = ta + ca, tb + cb  # inter-modal residual (network_swinfusion.py CRSTB)
        fa = to_image(self.norm_fusion_a(ta), size)
        fb = to_image(self.norm_fusion_b(tb), size)
        fused = F.leaky_relu(self.conv_after_fusion(torch.cat([fa, fb], 1)), 0.2)
        return crop_to(fused, h, w)

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """(B, embed_dim, H, W) -> fused image (B, C, H, W), about [0, 1] (no output activation)."""
        h, w = features.shape[-2:]
        x = pad_to_multiple(features, self.window_size)
        size = tuple(x.shape[-2:])
        mask = self._mask(size, x.device)
        t = self.patch_norm(to_tokens(x))
        for block in self.recon:
            t = self.run_block(block, t, size, mask)
        x = to_image(self.norm_recon(t), size)
        x = F.leaky_relu(self.conv_last1(x), 0.2)
        x = F.leaky_relu(self.conv_last2(x), 0.2)
        return crop_to(self.conv_last3(x), h, w) + self.mean

    def forward(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        return self.decode(self.features(ir, vis))
