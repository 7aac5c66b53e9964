"""Separable 'valid' filtering of image batches, shared by VIF, SSIM and MS-SSIM.

Each 1-D pass is a matrix product with a banded matrix holding the kernel (dense
for the rows of a short strip, by blocks of outputs along the columns), which BLAS runs far
faster than k shifted multiply-adds or float64 conv2d (no fast CPU path). Callers
work on row strips of about ``STRIP_ELEMENTS`` values per map so that the maps of a
strip stay in cache: whole-image maps cost memory traffic, tiny strips cost Python's
per-operation overhead (2^18 measured best, 2x faster than 2^15 or 2^22, on the
project's 2-core CPU). On CUDA a strip is the whole image.
"""
from __future__ import annotations

import functools
from typing import Iterator

import torch

STRIP_ELEMENTS = 1 << 18  # values per map in one strip (2 MB in float64)
FILTER_STRIP_ELEMENTS = 1 << 20  # strips for filter_valid: k - 1 rows of each are wasted (2^20 measured best)
COLUMN_BLOCK = 32  # outputs per block of the column pass


def gaussian_kernel1d(size: int, sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian (size,), float64; its outer product is MATLAB's fspecial."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def n_valid(n: int, k: int, step: int = 1) -> int:
    """Number of 'valid' outputs of a k-tap window over n samples, keeping every step-th."""
    if n < k:
        raise ValueError(f"image side {n} is smaller than the {k}-pixel window.")
    return (n - k) // step + 1


@functools.lru_cache(maxsize=128)
def _band(kernel: tuple[float, ...], n_in: int, step: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    """(n_out, n_in): row j holds the kernel at columns j*step .. j*step + k - 1."""
    k = len(kernel)
    n_out = n_valid(n_in, k, step)
    band = torch.zeros(n_out, n_in, dtype=torch.float64)
    taps = torch.tensor(kernel, dtype=torch.float64)
    for j in range(n_out):
        band[j, j * step : j * step + k] = taps
    return band.to(dtype=dtype, device=device)


def band_matrix(kernel: torch.Tensor, n_in: int, step: int, dtype: torch.dtype, device) -> torch.Tensor:
    return _band(tuple(kernel.tolist()), n_in, step, dtype, str(device))


def filter_rows(x: torch.Tensor, kernel: torch.Tensor, step: int = 1) -> torch.Tensor:
    """Correlate (..., H, W) along H, 'valid', every step-th row: one dense band product.

    Meant for strips (H of a few tens of rows): cost H multiply-adds per output.
    """
    h, w = x.shape[-2:]
    band = band_matrix(kernel, h, step, x.dtype, x.device)
    flat = x.reshape(-1, h, w)
    return torch.matmul(band.expand(flat.shape[0], -1, -1), flat).view(*x.shape[:-2], band.shape[0], w)


def filter_cols(x: torch.Tensor, kernel: torch.Tensor, step: int = 1) -> torch.Tensor:
    """Correlate (..., H, W) along W, 'valid', every step-th column, by blocks of outputs.

    Each block of outputs is a product of a column slice of x (a strided matrix BLAS
    reads in place: no copy) with a small band, written into its slice of the output.
    """
    k, w = len(kernel), x.shape[-1]
    n_out = n_valid(w, k, step)
    rows = x.reshape(-1, w)
    out = torch.empty(rows.shape[0], n_out, dtype=x.dtype, device=x.device)
    for c0 in range(0, n_out, COLUMN_BLOCK):
        c1 = min(c0 + COLUMN_BLOCK, n_out)
        span = step * (c1 - c0 - 1) + k
        band = band_matrix(kernel, span, step, x.dtype, x.device)
        torch.mm(rows[:, c0 * step : c0 * step + span], band.T, out=out[:, c0:c1])
    return out.view(*x.shape[:-1], n_out)


def filter_valid(x: torch.Tensor, kernel: torch.Tensor, kernel_cols: torch.Tensor | None = None) -> torch.Tensor:
    """Correlate (..., H, W) with outer(kernel, kernel_cols or kernel), 'valid' outputs.

    On CPU, OpenCV's separable filter plane by plane, in x's dtype: its SIMD row and column
    passes (k taps each) ran 2.5-4x faster than the band products (H + k - 1 taps per row
    output) on the 2-core CPU; same sums in another order (float64: ~1e-16 relative).
    A 1-tap kernel [1.0] leaves that axis as it is (exactly). CUDA: band products.
    """
    kernel_cols = kernel if kernel_cols is None else kernel_cols
    if x.device.type != "cpu":
        return filter_cols(filter_rows(x, kernel), kernel_cols)
    import cv2

    h, w = x.shape[-2:]
    planes = x.reshape(-1, h, w).contiguous().numpy()
    taps_rows, taps_cols = kernel.to(x.dtype).numpy(), kernel_cols.to(x.dtype).numpy()
    full = torch.empty(planes.shape, dtype=x.dtype)
    for p, dst in enumerate(full.numpy()):
        # anchor (0, 0): output (i, j) reads rows i..i+k-1, columns j..j+k-1; the border never enters the crop
        cv2.sepFilter2D(planes[p], -1, taps_cols, taps_rows, dst=dst, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    # the 'valid' crop as a view (no copy): the callers' elementwise operations read it strided
    h_out, w_out = n_valid(h, len(kernel)), n_valid(w, len(kernel_cols))
    return full[:, :h_out, :w_out].reshape(*x.shape[:-2], h_out, w_out)


def row_strips(
    n_out: int, values_per_row: int, device, elements: int = STRIP_ELEMENTS
) -> Iterator[tuple[int, int]]:
    """Output-row ranges [r0, r1) covering n_out rows, about ``elements`` values each (CUDA: one)."""
    rows = n_out if torch.device(device).type == "cuda" else max(8, elements // max(values_per_row, 1))
    for r0 in range(0, n_out, rows):
        yield r0, min(r0 + rows, n_out)


def input_rows(r0: int, r1: int, k: int, step: int = 1) -> slice:
    """Input rows that 'valid' output rows [r0, r1) of a k-tap, step-subsampled window read."""
    return slice(r0 * step, (r1 - 1) * step + k)


def image_strips(
    ref: torch.Tensor, f: torch.Tensor, k: int, elements: int = STRIP_ELEMENTS
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(i, ref strip, f strip) for each image i of ref (B, C, H, W), f (B, 1, H, W) and each row
    strip of the 'valid' outputs of a k x k window; strips sized for the 3C + 2 stacked moments.

    One image at a time: a strip of one image stays in cache, a strip of a batch would not.
    """
    per_row = (3 * ref.shape[1] + 2) * ref.shape[-1]
    for i in range(ref.shape[0]):
        for r0, r1 in row_strips(n_valid(ref.shape[-2], k), per_row, ref.device, elements):
            rows = input_rows(r0, r1, k)
            yield i, ref[i : i + 1, :, rows], f[i : i + 1, :, rows]


def moment_stack(ref: torch.Tensor, f: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(B, 3C + 2, H, W) stack [ref, f, ref^2, f^2, ref f] of ref (B, C, H, W), f (B, 1, H, W):
    the local moments both SSIMs and VIF filter, F's once for all C sources.

    Products written straight into the stack (no torch.cat copy).
    """
    c = ref.shape[1]
    out = torch.empty(ref.shape[0], 3 * c + 2, *ref.shape[2:], dtype=dtype, device=ref.device)
    x, y = out[:, :c], out[:, c : c + 1]
    x.copy_(ref)
    y.copy_(f)
    torch.mul(x, x, out=out[:, c + 1 : 2 * c + 1])
    torch.mul(y, y, out=out[:, 2 * c + 1 : 2 * c + 2])
    torch.mul(x, y, out=out[:, 2 * c + 2 :])
    return out


def separable_valid(x: torch.Tensor, kernel: torch.Tensor, step: int = 1) -> torch.Tensor:
    """Correlate (..., H, W) with outer(kernel, kernel), 'valid' region, subsampled by ``step``.

    CPU: OpenCV's filter, then every step-th output (4x the outputs at step 2, still faster).
    CUDA: strip by strip, the row pass, then the column pass on the (fewer) output rows.
    """
    if x.device.type == "cpu":
        return filter_valid(x, kernel)[..., ::step, ::step].contiguous()
    k = len(kernel)
    n_out = n_valid(x.shape[-2], k, step)
    per_row = x[..., 0, :].numel()
    parts = [
        filter_cols(filter_rows(x[..., input_rows(r0, r1, k, step), :], kernel, step), kernel, step)
        for r0, r1 in row_strips(n_out, per_row, x.device)
    ]
    return parts[0] if len(parts) == 1 else torch.cat(parts, -2)
