"""The CPU filter (OpenCV) and the band products (the CUDA path) give the same 'valid' outputs."""
from __future__ import annotations

import pytest
import torch

from pipeline.metrics.filters import filter_cols, filter_rows, filter_valid, gaussian_kernel1d, separable_valid


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_filter_valid_matches_band_products(dtype):
    x = torch.rand(2, 3, 40, 57, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).mul(255).to(dtype)
    k17, one, ones7 = gaussian_kernel1d(17, 3.4), torch.ones(1, dtype=torch.float64), torch.ones(7, dtype=torch.float64)
    tol = dict(rtol=1e-6, atol=1e-3) if dtype == torch.float32 else dict(rtol=1e-13, atol=1e-10)
    torch.testing.assert_close(filter_valid(x, k17), filter_cols(filter_rows(x, k17), k17), **tol)
    torch.testing.assert_close(filter_valid(x[0, 0], k17), filter_cols(filter_rows(x[0, 0], k17), k17), **tol)
    # 1-tap kernels leave an axis as it is: SSIM's two exact passes
    torch.testing.assert_close(filter_valid(x, ones7, one), filter_rows(x, ones7), **tol)
    torch.testing.assert_close(filter_valid(x, one, ones7), filter_cols(x, ones7), **tol)
    stepped = filter_cols(filter_rows(x, k17, 2), k17, 2)
    torch.testing.assert_close(separable_valid(x, k17, 2), stepped, **tol)
