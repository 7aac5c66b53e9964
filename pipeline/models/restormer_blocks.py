"""Restormer-CNN block of EMMA's U-Fuser: a global (transposed attention) and a local (residual
conv) branch on a shared embedding, merged by a 3x3 convolution. All shapes (B, C, H, W)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin: int, cout: int, bias: bool, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution with reflect padding, as EMMA uses everywhere."""
    return nn.Conv2d(cin, cout, 3, padding=1, bias=bias, groups=groups, padding_mode="reflect")


class ChannelLayerNorm(nn.Module):
    """LayerNorm over channels at every pixel, with bias (Restormer's 'WithBias')."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = x.mean(1, keepdim=True)
        var = x.var(1, keepdim=True, unbiased=False)
        return (x - mu) / torch.sqrt(var + 1e-5) * self.weight[:, None, None] + self.bias[:, None, None]


def transposed_attention(q, k, v, num_heads: int, temperature: torch.Tensor) -> torch.Tensor:
    """MDTA core: attention between channels (not pixels) per head.

    q, k, v: (B, C, H, W); temperature (heads, 1, 1). Returns (B, C, H, W).
    """
    b, c, h, w = q.shape
    q, k, v = (t.reshape(b, num_heads, c // num_heads, h * w) for t in (q, k, v))
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)  # cosine similarity, Restormer
    attn = (q @ k.transpose(-2, -1) * temperature).softmax(-1)
    return (attn @ v).reshape(b, c, h, w)


class MDTA(nn.Module):
    """Multi-Dconv head transposed attention: 1x1 qkv, dense 3x3 (zero pad), channel attention, 1x1."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"EMMA: channels {dim} not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv1 = nn.Conv2d(dim, 3 * dim, 1, bias=False)
        self.qkv2 = nn.Conv2d(3 * dim, 3 * dim, 3, padding=1, bias=False)
        self.proj = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv2(self.qkv1(x)).chunk(3, dim=1)
        return self.proj(transposed_attention(q, k, v, self.num_heads, self.temperature))


class GDFN(nn.Module):
    """Gated-Dconv feed-forward, expansion 1: 1x1 c -> 2c, grouped 3x3 (groups c), GELU gate, 1x1."""

    def __init__(self, dim: int):
        super().__init__()
        self.project_in = nn.Conv2d(dim, 2 * dim, 1, bias=False)
        self.dwconv = conv3x3(2 * dim, 2 * dim, bias=False, groups=dim)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)


class GlobalBranch(nn.Module):
    """x + MDTA(LN(x)), then + GDFN(LN(.)): one Restormer transformer block."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.norm1 = ChannelLayerNorm(dim)
        self.attn = MDTA(dim, num_heads)
        self.norm2 = ChannelLayerNorm(dim)
        self.ffn = GDFN(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class ResBlock(nn.Module):
    """conv3x3-ReLU-conv3x3 + skip (bias, reflect)."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv1 = conv3x3(dim, dim, bias=True)
        self.conv2 = conv3x3(dim, dim, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class RestormerCNNBlock(nn.Module):
    """RC(cin -> c): embed conv, global branch || local branch (2 ResBlocks), merge conv 2c -> c."""

    def __init__(self, cin: int, dim: int, num_heads: int):
        super().__init__()
        self.embed = conv3x3(cin, dim, bias=False)
        self.global_branch = GlobalBranch(dim, num_heads)
        self.local_branch = nn.Sequential(ResBlock(dim), ResBlock(dim))
        self.merge = conv3x3(2 * dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        return self.merge(torch.cat([self.global_branch(x), self.local_branch(x)], 1))
