"""The OpenCV separable filter gives scipy's direct 2-D 'valid' correlation."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from pipeline.metrics.filters import filter_valid, gaussian_kernel1d, separable_valid


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_filter_valid_is_the_direct_valid_correlation(dtype):
    x = (np.random.default_rng(0).random((2, 3, 40, 57)) * 255).astype(dtype)
    k17, one, ones7 = gaussian_kernel1d(17, 3.4), np.ones(1), np.ones(7)
    tol = dict(rtol=1e-5, atol=1e-2) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-9)
    direct = lambda plane, kr, kc: correlate2d(plane.astype(np.float64), np.outer(kr, kc), "valid")  # noqa: E731
    want = np.stack([[direct(p, k17, k17) for p in planes] for planes in x])
    got = filter_valid(x, k17)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(filter_valid(x[0, 0], k17), want[0, 0], **tol)
    # 1-tap kernels leave an axis as it is: SSIM's two exact passes (integer sums: exact)
    ints = np.round(x)
    np.testing.assert_array_equal(filter_valid(ints, ones7, one)[0, 0], direct(ints[0, 0], ones7, one))
    np.testing.assert_array_equal(filter_valid(ints, one, ones7)[0, 0], direct(ints[0, 0], one, ones7))
    np.testing.assert_allclose(separable_valid(x, k17, 2), want[..., ::2, ::2], **tol)
