"""The scoring protocol (docs/metrics.md, "Inputs"): 8-bit images, OpenCV-rounded gray.

Every metric sees the same inputs: F (fused) and B (visible) as 8-bit RGB, A (infrared)
as 8-bit gray, and the gray of F and B computed the way the reference evaluators did
(OpenCV's float32 BGR->GRAY, then rounded half to even). A single-channel fused image
is colourised with the visible image's BT.601 chroma before scoring.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class ImageError(ValueError):
    """An image file cannot be scored (unreadable, not 8-bit, wrong shape)."""


def read_rgb8(path: str | Path) -> np.ndarray:
    """8-bit RGB array (H, W, 3) uint8; a 1-channel file is replicated, alpha dropped.

    Files with more than 8 bits per sample are rejected, never wrapped or rescaled.
    """
    import cv2  # OpenCV: the reference evaluators' reader (ultralytics depends on it)

    path = Path(path)
    # imdecode, not imread: importing ultralytics replaces cv2.imread process-wide with a
    # reader that silently shifts 16-bit images to 8 bits and falls back to patched PIL.
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except (OSError, ValueError, cv2.error) as err:
        raise ImageError(f"{path}: cannot read this image ({err}).") from err
    if image is None:
        raise ImageError(f"{path}: cannot read this image (corrupt file or unsupported format).")
    if image.dtype != np.uint8:
        raise ImageError(
            f"{path}: {image.dtype} samples, but the metrics need 8-bit images "
            "(save the fused output as 8-bit PNG)."
        )
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 4:
        image = image[:, :, :3]  # alpha carries no intensity
    if image.shape[2] != 3:
        raise ImageError(f"{path}: {image.shape[2]} channels; expected 1, 3 or 4.")
    return np.ascontiguousarray(image[:, :, ::-1])  # OpenCV reads BGR


def check_8bit(x: np.ndarray, name: str) -> np.ndarray:
    """Return ``x`` as float64 after checking it holds integers in 0..255.

    MI and EN are meaningless on non-integer values, and values above 255 must not wrap
    (docs/metrics.md, "Pitfalls"): both are errors here, not silent fixes.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float64)
    if np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.signedinteger) \
            or np.issubdtype(x.dtype, np.unsignedinteger):
        xf = x.astype(np.float64)
        if xf.size and (xf.min() < 0 or xf.max() > 255):
            raise ValueError(
                f"{name}: values in [{xf.min():g}, {xf.max():g}] exceed 8-bit 0..255; "
                "clip and round to uint8 before scoring."
            )
        if not np.array_equal(xf, np.round(xf)):
            raise ValueError(f"{name}: non-integer values; round to 8-bit integers before scoring.")
        return xf
    raise TypeError(f"{name}: unsupported dtype {x.dtype}; give uint8 or integer-valued floats 0..255.")


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) 8-bit RGB -> (H, W) float64 gray, rounded half to even.

    Exactly the reference readers' gray (CDDFuse's ``image_read_cv2(path, "GRAY")``):
    ``np.round(cv2.cvtColor(cv2.imread(path).astype("float32"), cv2.COLOR_BGR2GRAY))``.
    OpenCV itself, in BGR order: its float32 sum decides the near-ties (x.5), and
    COLOR_RGB2GRAY adds the same three products in another order (652 of the 2^24
    8-bit triples round the other way); the uint8 path (fixed point) differs more.
    """
    import cv2

    bgr = np.ascontiguousarray(rgb[..., ::-1], dtype=np.float32)
    return np.round(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)).astype(np.float64)


def colourise_luminance(y: np.ndarray, vis_rgb: np.ndarray) -> np.ndarray:
    """Single-channel fused Y (H, W) + visible CbCr -> 8-bit RGB (H, W, 3) float64.

    BT.601 full-range YCbCr (JPEG convention), rounded and clipped to 0..255.
    """
    vis = vis_rgb.astype(np.float64)
    r, g, b = vis[..., 0], vis[..., 1], vis[..., 2]
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    yy = y.astype(np.float64)
    out = np.stack([yy + 1.402 * cr, yy - 0.344136 * cb - 0.714136 * cr, yy + 1.772 * cb], -1)
    return np.clip(np.round(out), 0, 255)
