"""The protocol's gray: bit for bit the reference readers' (CDDFuse ``image_read_cv2(path, "GRAY")``:
cv2.imread -> BGR uint8 -> float32 -> COLOR_BGR2GRAY -> np.round)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.metrics.protocol import read_rgb8, rgb_to_gray


def _gray_bgr(rgb: np.ndarray) -> np.ndarray:
    """The reference path on an (H, W, 3) uint8 RGB array."""
    return np.round(cv2.cvtColor(np.ascontiguousarray(rgb[:, :, ::-1]).astype(np.float32), cv2.COLOR_BGR2GRAY))


def _gray_rgb(rgb: np.ndarray) -> np.ndarray:
    """The old project path: same weights, COLOR_RGB2GRAY's summation order."""
    return np.round(cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY))


def _project_gray(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_gray(rgb)


def _order_sensitive_triples(limit: int = 64) -> np.ndarray:
    """Up to ``limit`` 8-bit RGB triples whose rounded gray differs between the two OpenCV
    codes, found by trying all 2^24 triples, one 256 x 256 (R, G) slab per B (~0.2 s)."""
    r, g = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    found = []
    for b in range(256):
        slab = np.stack([r, g, np.full_like(r, b)], -1)
        found.extend(slab[_gray_rgb(slab) != _gray_bgr(slab)])
        if len(found) >= limit:
            break
    return np.array(found[:limit], dtype=np.uint8)


def test_gray_is_the_bgr_path_where_summation_order_matters():
    triples = _order_sensitive_triples()
    assert len(triples) > 0, "no order-sensitive triple: OpenCV's two codes now agree everywhere"
    # a small image: the sensitive pixels, then a ramp of ordinary ones
    ramp = np.random.default_rng(0).integers(0, 256, (64, 3), dtype=np.uint8)
    image = np.concatenate([triples, ramp]).reshape(2, -1, 3)
    got = _project_gray(image)
    np.testing.assert_array_equal(got, _gray_bgr(image))
    assert (got != _gray_rgb(image)).any()  # the old COLOR_RGB2GRAY code fails here


def test_gray_of_a_real_m3fd_image_is_the_reference_readers(shared_dir):
    path = shared_dir / "samples" / "m3fd" / "M3FD_Detection" / "Vis" / "00000.png"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    # the reference reader verbatim (an 8-bit PNG: no global patch of cv2.imread changes it)
    reference = np.round(cv2.cvtColor(cv2.imread(str(path)).astype("float32"), cv2.COLOR_BGR2GRAY))
    rgb = read_rgb8(path)
    np.testing.assert_array_equal(_project_gray(rgb), reference)
    assert (_gray_rgb(rgb) != reference).sum() > 0  # this image tells the two orders apart (8 pixels)
