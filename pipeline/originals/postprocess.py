"""Each original test script's path from 8-bit images to the 8-bit image it writes.

``fuse(ir, vis)`` is the network: (1, 1, H, W) float32 tensors in [0, 1] -> fused luminance.
Inputs are uint8 numpy arrays (H, W) or (H, W, 3) RGB. Each step follows the named script line
for line (operation order included, so that 8-bit results match to the bit).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

Fuse = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
SWIN_WINDOW = 8  # test_swinfusion.py setup(): window_size = 8
EMMA_TILE = 32  # MMIF-EMMA test.py: sizes not divisible by 32 are fused as four corner tiles


def _tensor(gray: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) -> (1, 1, H, W) float32 / 255, as the scripts' loaders."""
    return torch.from_numpy(gray.astype(np.float32) / 255.0)[None, None]


def forward_as_original(arch: str, fuse: Fuse, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """The original network's forward on any-size inputs: SwinFusion reflect-pads to its window
    inside forward (check_image_size) and crops; SeAFusion needs no padding; EMMA's U-Fuser only
    runs at multiples of 8 (its skip connections must align)."""
    h, w = ir.shape[-2:]
    if arch == "swinfusion":
        pad = (0, (-w) % SWIN_WINDOW, 0, (-h) % SWIN_WINDOW)
        return fuse(F.pad(ir, pad, "reflect"), F.pad(vis, pad, "reflect"))[..., :h, :w]
    if arch == "emma" and (h % 8 or w % 8):
        raise ValueError(f"EMMA's original forward needs H, W multiples of 8, got {h}x{w}")
    return fuse(ir, vis)


def _flip_pad(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """test_swinfusion.py: append the flipped image, keep (h // 8 + 1) * 8 rows and columns (a full
    extra window even at multiples of 8)."""
    x = torch.cat([x, torch.flip(x, [2])], 2)[:, :, :h, :]
    return torch.cat([x, torch.flip(x, [3])], 3)[:, :, :, :w]


def swinfusion_test(fuse: Fuse, ir: np.ndarray, vis_y: np.ndarray) -> np.ndarray:
    """test_swinfusion.py: IR (A) and visible Y (B) -> written uint8 Y (H, W)."""
    a, b = _tensor(ir), _tensor(vis_y)
    h, w = a.shape[-2:]
    hp, wp = (h // SWIN_WINDOW + 1) * SWIN_WINDOW, (w // SWIN_WINDOW + 1) * SWIN_WINDOW
    with torch.no_grad():
        out = fuse(_flip_pad(a, hp, wp), _flip_pad(b, hp, wp))[..., :h, :w]
    img = out.detach()[0].float().squeeze().clamp_(0, 1).numpy()  # utils_image.tensor2uint
    return np.uint8((img * 255.0).round())


def rgb_to_ycrcb(rgb: torch.Tensor) -> torch.Tensor:
    """SeAFusion test.py RGB2YCrCb: (B, 3, H, W) RGB -> (B, 3, H, W) Y, Cr, Cb."""
    flat = rgb.transpose(1, 3).transpose(1, 2).reshape(-1, 3)
    r, g, b = flat[:, 0], flat[:, 1], flat[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 0.5
    cb = (b - y) * 0.564 + 0.5
    out = torch.stack((y, cr, cb), 1)
    n, _, hh, ww = rgb.shape
    return out.reshape(n, hh, ww, 3).transpose(1, 3).transpose(2, 3)


def ycrcb_to_rgb(ycrcb: torch.Tensor) -> torch.Tensor:
    """SeAFusion test.py YCrCb2RGB: a flat (N, 3) matrix product with the offsets added first."""
    flat = ycrcb.transpose(1, 3).transpose(1, 2).reshape(-1, 3)
    mat = torch.tensor([[1.0, 1.0, 1.0], [1.403, -0.714, 0.0], [0.0, -0.344, 1.773]])
    bias = torch.tensor([0.0 / 255, -0.5, -0.5])
    n, _, hh, ww = ycrcb.shape
    return (flat + bias).mm(mat).reshape(n, hh, ww, 3).transpose(1, 3).transpose(2, 3)


def seafusion_test(fuse: Fuse, ir: np.ndarray, vis_rgb: np.ndarray) -> np.ndarray:
    """SeAFusion test.py: fused Y + visible Cr, Cb -> RGB, clamped, min-max stretched over the
    batch, truncated to uint8 (H, W, 3)."""
    vis = torch.from_numpy(vis_rgb.astype(np.float32).transpose(2, 0, 1) / 255.0)[None]
    ycrcb = rgb_to_ycrcb(vis)
    with torch.no_grad():
        y = fuse(_tensor(ir), ycrcb[:, :1])
    rgb = ycrcb_to_rgb(torch.cat((y, ycrcb[:, 1:2], ycrcb[:, 2:]), 1))
    rgb = torch.where(rgb > 1, torch.ones_like(rgb), rgb)
    rgb = torch.where(rgb < 0, torch.zeros_like(rgb), rgb)
    img = rgb.numpy().transpose(0, 2, 3, 1)
    img = (img - np.min(img)) / (np.max(img) - np.min(img))
    return np.uint8(255.0 * img)[0]


def _imageio_uint8(img: np.ndarray) -> np.ndarray:
    """What img_save's skimage.io.imsave (imageio) writes for a float array outside [0, 1]:
    min-max to 0..255 in float64, + 0.499999999, truncated."""
    mi, ma = np.nanmin(img), np.nanmax(img)
    return ((img.astype("float64") - mi) / (ma - mi) * 255.0 + 0.499999999).astype(np.uint8)


def emma_tiles(h: int, w: int) -> list[tuple[slice, slice]]:
    """MMIF-EMMA test.py's corner tiles (rows, cols) of size h - h % 32 by w - w % 32."""
    h1, w1 = h - h % EMMA_TILE, w - w % EMMA_TILE
    rows, cols = [slice(0, h1)], [slice(0, w1)]
    if h1 != h:
        rows.append(slice(h - h1, h))
    if w1 != w:
        cols.append(slice(w - w1, w))
    return [(r, c) for r in rows for c in cols]


def emma_test(fuse: Fuse, ir: np.ndarray, vis_gray: np.ndarray) -> np.ndarray:
    """MMIF-EMMA test.py: whole image at multiples of 32, else four corner tiles each filling its
    own corner; min-max stretched, written as uint8 (H, W)."""
    a, b = _tensor(ir), _tensor(vis_gray)
    h, w = ir.shape
    with torch.no_grad():
        if h % EMMA_TILE == 0 and w % EMMA_TILE == 0:
            f = fuse(a, b)
            f = (f - torch.min(f)) / (torch.max(f) - torch.min(f))
            return _imageio_uint8(np.squeeze((f * 255).numpy()))
        fused = np.zeros((h, w), dtype=np.float32)
        for rows, cols in emma_tiles(h, w):
            tile = np.squeeze((fuse(a[..., rows, cols], b[..., rows, cols]) * 255).numpy())
            # a lower / right tile writes only its last h % 32 rows / w % 32 columns
            r0 = 0 if rows.start == 0 else (rows.stop - rows.start) - h % EMMA_TILE
            c0 = 0 if cols.start == 0 else (cols.stop - cols.start) - w % EMMA_TILE
            fused[rows.start + r0:rows.stop, cols.start + c0:cols.stop] = tile[r0:, c0:]
    fused = (fused - np.min(fused)) / (np.max(fused) - np.min(fused))
    return _imageio_uint8(fused * 255)
