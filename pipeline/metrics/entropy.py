"""EN and MI from 8-bit histograms (reference/metrics.md): batched bincounts, no loops."""
from __future__ import annotations

import math

import torch


def _entropy_bits(counts: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (bits) of histograms (B, K) of counts."""
    p = counts.to(torch.float64) / counts.sum(1, keepdim=True)
    return -(p * torch.log2(torch.where(p > 0, p, torch.ones_like(p)))).sum(1)


def histogram(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) integer-valued 0..255 -> (B, 256) counts."""
    b = x.shape[0]
    idx = x.reshape(b, -1).long() + 256 * torch.arange(b, device=x.device)[:, None]
    return torch.bincount(idx.flatten(), minlength=256 * b).view(b, 256)


def joint_histogram(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) x2, values 0..255 -> (B, 65536) joint counts of (x, y)."""
    b = x.shape[0]
    idx = x.reshape(b, -1).long() * 256 + y.reshape(b, -1).long()
    idx = idx + 65536 * torch.arange(b, device=x.device)[:, None]
    return torch.bincount(idx.flatten(), minlength=65536 * b).view(b, 65536)


def entropy(f: torch.Tensor) -> torch.Tensor:
    """EN: entropy in bits of the 256-bin histogram of gray F (B, 1, H, W) -> (B,)."""
    return _entropy_bits(histogram(f))


def mutual_information(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """MI(F, X) = H(X) + H(F) - H(X, F) in bits, (B, 1, H, W) each -> (B,)."""
    return _entropy_bits(histogram(f)) + _entropy_bits(histogram(x)) - _entropy_bits(joint_histogram(f, x))


def mi_sum_bits(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """MI = MI(F, A) + MI(F, B) in bits (the toolkit's unit), (B,)."""
    return mutual_information(f, a) + mutual_information(f, b)


def bits_to_nats(bits: torch.Tensor) -> torch.Tensor:
    """CDDFuse's sklearn MI is in nats: nats = bits * ln 2."""
    return bits * math.log(2)
