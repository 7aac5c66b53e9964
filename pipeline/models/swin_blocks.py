"""Swin Transformer blocks as SwinFusion uses them (from SwinIR): window self-attention and
window cross-attention with relative position bias, pre-norm residual, MLP with GELU.

Tokens are (B, H*W, C) with H, W multiples of the window size. Attention is written as
explicit matmuls so that FLOP counters see it (Table IV counts attention matmuls).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drop the whole residual branch per sample with probability ``rate``."""
    if rate == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1 - rate)
    return x * keep / (1 - rate)


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * nW, ws * ws, C)."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(windows: torch.Tensor, ws: int, h: int, w: int) -> torch.Tensor:
    """(B * nW, ws * ws, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def shifted_window_mask(h: int, w: int, ws: int, shift: int, device=None) -> torch.Tensor:
    """(nW, ws*ws, ws*ws) additive mask (0 / -100) separating regions wrapped by the cyclic shift."""
    img = torch.zeros((1, h, w, 1), device=device)
    cuts = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    for region, (hs, wsl) in enumerate((a, b) for a in cuts for b in cuts):
        img[:, hs, wsl, :] = region
    windows = window_partition(img, ws).squeeze(-1)
    diff = windows.unsqueeze(1) - windows.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0)


def relative_position_index(ws: int) -> torch.Tensor:
    """(ws*ws, ws*ws) index into the (2ws-1)^2 relative position bias table."""
    coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ws - 1)
    return rel[..., 0] * (2 * ws - 1) + rel[..., 1]


class WindowAttention(nn.Module):
    """Multi-head attention inside windows with relative position bias.

    Self-attention (``cross=False``: one qkv linear) or cross-attention (``cross=True``:
    queries from x, keys/values from y with separate q and kv linears, as SwinFusion).
    x, y: (B*nW, N, C); mask: (nW, N, N) or None. Returns (B*nW, N, C).
    """

    def __init__(self, dim: int, window_size: int, num_heads: int, cross: bool = False):
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index", relative_position_index(window_size), persistent=False)
        self.cross = cross
        if cross:
            self.q = nn.Linear(dim, dim)
            self.kv = nn.Linear(dim, 2 * dim)
        else:
            self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        b, n, c = x.shape
        heads = lambda t, k: t.reshape(b, n, k, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        if self.cross:
            q, (k, v) = heads(self.q(x), 1)[0], heads(self.kv(y), 2)
        else:
            q, k, v = heads(self.qkv(x), 3)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        attn = attn + bias.reshape(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(b // nw, nw, self.num_heads, n, n) + mask[None, :, None]).view(b, self.num_heads, n, n)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    """Linear -> GELU -> Linear."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class _Path(nn.Module):
    """One attention path: norm1, attention, norm2, MLP (a self block, or one side of a cross block)."""

    def __init__(self, dim, num_heads, window_size, mlp_ratio, cross):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads, cross=cross)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))


def _windows(x: torch.Tensor, size: tuple[int, int], ws: int, shift: int) -> torch.Tensor:
    """Tokens (B, HW, C) -> cyclically shifted windows (B*nW, ws*ws, C)."""
    b, _, c = x.shape
    x = x.view(b, *size, c)
    if shift:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
    return window_partition(x, ws)


def _unwindows(w: torch.Tensor, size: tuple[int, int], ws: int, shift: int) -> torch.Tensor:
    """Inverse of :func:`_windows`."""
    x = window_reverse(w, ws, *size)
    if shift:
        x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
    return x.reshape(x.shape[0], -1, x.shape[-1])


class SwinBlock(nn.Module):
    """(Shifted-)window self-attention block. x: (B, H*W, C) -> same."""

    def __init__(self, dim, num_heads, window_size, shift, mlp_ratio, drop_path_rate=0.0):
        super().__init__()
        self.window_size, self.shift, self.drop_path_rate = window_size, shift, drop_path_rate
        self.path = _Path(dim, num_heads, window_size, mlp_ratio, cross=False)

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        p, ws, s = self.path, self.window_size, self.shift
        attn = p.attn(_windows(p.norm1(x), size, ws, s), mask=mask if s else None)
        x = x + drop_path(_unwindows(attn, size, ws, s), self.drop_path_rate, self.training)
        return x + drop_path(p.mlp(p.norm2(x)), self.drop_path_rate, self.training)


class CrossSwinBlock(nn.Module):
    """Cross-attention block: A's queries attend to B's keys/values and vice versa, separate
    norms, attentions and MLPs per path. x, y: (B, H*W, C) -> (x', y')."""

    def __init__(self, dim, num_heads, window_size, shift, mlp_ratio, drop_path_rate=0.0):
        super().__init__()
        self.window_size, self.shift, self.drop_path_rate = window_size, shift, drop_path_rate
        self.path_a = _Path(dim, num_heads, window_size, mlp_ratio, cross=True)
        self.path_b = _Path(dim, num_heads, window_size, mlp_ratio, cross=True)

    def forward(self, x, y, size, mask):
        ws, s, rate = self.window_size, self.shift, self.drop_path_rate
        m = mask if s else None
        xw = _windows(self.path_a.norm1(x), size, ws, s)
        yw = _windows(self.path_b.norm1(y), size, ws, s)
        ax = _unwindows(self.path_a.attn(xw, yw, mask=m), size, ws, s)
        ay = _unwindows(self.path_b.attn(yw, xw, mask=m), size, ws, s)
        x = x + drop_path(ax, rate, self.training)
        y = y + drop_path(ay, rate, self.training)
        x = x + drop_path(self.path_a.mlp(self.path_a.norm2(x)), rate, self.training)
        y = y + drop_path(self.path_b.mlp(self.path_b.norm2(y)), rate, self.training)
        return x, y


def swin_stack(depth, dim, num_heads, window_size, mlp_ratio, rates, block=SwinBlock) -> nn.ModuleList:
    """``depth`` blocks alternating shift 0 and window_size // 2, drop-path rates ``rates``."""
    return nn.ModuleList(
        block(dim, num_heads, window_size, 0 if i % 2 == 0 else window_size // 2, mlp_ratio, rates[i])
        for i in range(depth))
