"""EMMA's fusion loss with its pseudo-sensing networks A_i, A_v (MMIF-EMMA train_Fusion.py, utils.py).

    L = l(A_v(F), I_vis) + l(A_i(F), I_ir) + alpha l(T(F), U(A_i(T(F)), A_v(T(F)))),   alpha = 0.1

l (utils.loss_fusion) = L1 + L1 of kornia's SpatialGradient (normalised Sobel, both components);
T (utils.Transformer(3, 3, 3)) stacks F with 3 random cyclic shifts, rotations by 10, 130 and 250
degrees (bilinear, zero padding) and 3 flips along the batch. A_i, A_v are frozen (eval mode, no
gradient to their weights); gradients reach U through F, T(F) and U's second pass, as upstream.
The ideal-sensor variant (A(F) = source) is pipeline.losses.original.emma_loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import spatial_gradient
from kornia.geometry.transform import hflip, rotate, vflip

ALPHA = 0.1  # train_Fusion.py alpha
SHIFTS = ROTATIONS = FLIPS = 3  # train_Fusion.py shift_num, rotate_num, flip_num
UNET5_MULTIPLE = 16  # pipeline.models.unet5.STRIDE, not imported: the fusion runs' code stays without the U-Net


def emma_l(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """loss_fusion(coeff_int=1, coeff_grad=1): L1 + L1 of the normalised Sobel gradients (gx, gy)."""
    ga = spatial_gradient(a, mode="sobel", order=1, normalized=True)
    gb = spatial_gradient(b, mode="sobel", order=1, normalized=True)
    return (a - b).abs().mean() + (ga - gb).abs().mean()


def random_shifts(x: torch.Tensor, n: int) -> torch.Tensor:
    """n cyclic shifts, rows from +-1..H-1 and columns from +-1..W-1, each drawn without replacement."""
    h, w = x.shape[-2:]
    if n > h - 1 or n > w - 1:
        raise ValueError(f"{n} shifts need images larger than {n}x{n}, got {h}x{w}")

    def draw(size: int) -> list[int]:  # upstream: random.sample of [-1..-(size-1), 1..size-1]
        choices = list(range(-1, -size, -1)) + list(range(1, size))
        return [choices[i] for i in torch.randperm(len(choices))[:n].tolist()]

    rows, cols = draw(h), draw(w)
    return torch.cat([torch.roll(x, shifts=(r, c), dims=(-2, -1)) for r, c in zip(rows, cols)], dim=0)


def rotations(x: torch.Tensor, n: int) -> torch.Tensor:
    """Rotations by 10, 10 + 360/n, ... degrees (upstream's fixed angles, random_rotate=False)."""
    angles = range(10, 360, 360 // n)
    return torch.cat([rotate(x, torch.full((x.shape[0],), float(a), dtype=x.dtype, device=x.device))
                      for a in angles], dim=0)


def flips(x: torch.Tensor, n: int) -> torch.Tensor:
    """Up to 3 flips: horizontal, vertical, both."""
    if not 1 <= n <= 3:
        raise ValueError(f"EMMA flips 1 to 3 times, got {n}")
    both = hflip(vflip(x))
    return torch.cat([hflip(x), vflip(x), both][:n], dim=0)


def emma_transform(x: torch.Tensor, shifts: int = SHIFTS, rotations_n: int = ROTATIONS,
                   flips_n: int = FLIPS) -> torch.Tensor:
    """Transformer.apply: (B, ...) -> ((1 + shifts + rotations + flips) B, ...), x first. Global torch RNG
    (the trainer seeds it each epoch)."""
    parts = [x]
    if shifts > 0:
        parts.append(random_shifts(x, shifts))
    if rotations_n > 0:
        parts.append(rotations(x, rotations_n))
    if flips_n > 0:
        parts.append(flips(x, flips_n))
    return torch.cat(parts, dim=0)


def sensed(net):
    """A sensing network on any image size (whole validation images): pad to multiples of 16 as
    pipeline.models.padding does (reflect, replicate when too small) and crop back; upstream sees 128x128 patches."""

    def apply(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % UNET5_MULTIPLE, (-w) % UNET5_MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if ph < h and pw < w else "replicate")
        return net(x)[..., :h, :w]

    return apply


def emma_sensing_loss(model, fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor, a_i, a_v) -> torch.Tensor:
    """train_Fusion.py's loss_total for fusion model U = ``model(ir, vis)`` and frozen A_i, A_v."""
    t_fused = emma_transform(fused)
    equivariance = emma_l(t_fused, model(a_i(t_fused), a_v(t_fused)))
    return emma_l(a_v(fused), vis) + emma_l(a_i(fused), ir) + ALPHA * equivariance
