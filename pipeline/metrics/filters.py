"""Separable 'valid' filtering of one image's maps, shared by VIF, SSIM and MS-SSIM (numpy + OpenCV).

Maps are (..., H, W) numpy arrays. Callers work on row strips of about ``STRIP_ELEMENTS``
values per map, so that the maps of a strip stay in cache: whole-image maps cost memory
traffic, tiny strips cost Python's per-operation overhead.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

STRIP_ELEMENTS = 1 << 18  # values per map in one strip (2 MB in float64)
FILTER_STRIP_ELEMENTS = 1 << 20  # strips for filter_valid: k - 1 rows of each are wasted (2^20 measured best)


def gaussian_kernel1d(size: int, sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian (size,), float64; its outer product is MATLAB's fspecial."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def n_valid(n: int, k: int, step: int = 1) -> int:
    """Number of 'valid' outputs of a k-tap window over n samples, keeping every step-th."""
    if n < k:
        raise ValueError(f"image side {n} is smaller than the {k}-pixel window.")
    return (n - k) // step + 1


def filter_valid(x: np.ndarray, kernel: np.ndarray, kernel_cols: np.ndarray | None = None) -> np.ndarray:
    """Correlate (..., H, W) with outer(kernel, kernel_cols or kernel): the 'valid' outputs, in x's dtype.

    OpenCV's separable filter plane by plane (SIMD row and column passes, k taps each). A 1-tap
    kernel [1.0] leaves that axis as it is (exactly). Returns a strided view of the 'valid' crop.
    """
    import cv2

    kernel_cols = kernel if kernel_cols is None else kernel_cols
    h, w = x.shape[-2:]
    planes = np.ascontiguousarray(x).reshape(-1, h, w)
    taps_rows, taps_cols = kernel.astype(x.dtype), kernel_cols.astype(x.dtype)
    full = np.empty(planes.shape, dtype=x.dtype)
    for p in range(planes.shape[0]):
        # anchor (0, 0): output (i, j) reads rows i..i+k-1, columns j..j+k-1; the border never enters the crop
        cv2.sepFilter2D(planes[p], -1, taps_cols, taps_rows, dst=full[p], anchor=(0, 0),
                        borderType=cv2.BORDER_CONSTANT)
    h_out, w_out = n_valid(h, len(kernel)), n_valid(w, len(kernel_cols))
    return full[:, :h_out, :w_out].reshape(*x.shape[:-2], h_out, w_out)


def separable_valid(x: np.ndarray, kernel: np.ndarray, step: int = 1) -> np.ndarray:
    """Correlate (..., H, W) with outer(kernel, kernel), 'valid' region, every step-th output."""
    return np.ascontiguousarray(filter_valid(x, kernel)[..., ::step, ::step])


def row_strips(n_out: int, values_per_row: int, elements: int = STRIP_ELEMENTS) -> Iterator[tuple[int, int]]:
    """Output-row ranges [r0, r1) covering n_out rows, about ``elements`` values each."""
    rows = max(8, elements // max(values_per_row, 1))
    for r0 in range(0, n_out, rows):
        yield r0, min(r0 + rows, n_out)


def input_rows(r0: int, r1: int, k: int, step: int = 1) -> slice:
    """Input rows that 'valid' output rows [r0, r1) of a k-tap, step-subsampled window read."""
    return slice(r0 * step, (r1 - 1) * step + k)


def image_strips(ref: np.ndarray, f: np.ndarray, k: int,
                 elements: int = STRIP_ELEMENTS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ref strip, f strip) of ref (C, H, W), f (1, H, W) for each row strip of the 'valid'
    outputs of a k x k window; strips sized for the 3C + 2 stacked moments."""
    per_row = (3 * ref.shape[0] + 2) * ref.shape[-1]
    for r0, r1 in row_strips(n_valid(ref.shape[-2], k), per_row, elements):
        rows = input_rows(r0, r1, k)
        yield ref[:, rows], f[:, rows]


def moment_stack(ref: np.ndarray, f: np.ndarray, dtype=np.float64) -> np.ndarray:
    """(3C + 2, H, W) stack [ref, f, ref^2, f^2, ref f] of ref (C, H, W), f (1, H, W): the local
    moments both SSIMs and VIF filter, F's once for all C sources (products written in place)."""
    c = ref.shape[0]
    out = np.empty((3 * c + 2, *ref.shape[1:]), dtype=dtype)
    x, y = out[:c], out[c : c + 1]
    x[...] = ref
    y[...] = f
    np.multiply(x, x, out=out[c + 1 : 2 * c + 1])
    np.multiply(y, y, out=out[2 * c + 1 : 2 * c + 2])
    np.multiply(x, y, out=out[2 * c + 2 :])
    return out
