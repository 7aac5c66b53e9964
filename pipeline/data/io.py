"""Image readers and the PNG writer of the data contract.

Infrared is always read as gray whatever its channel count (MSRS stores it 1- or
3-channel, M3FD 3-channel with equal channels); visible always as RGB (a 4th channel
is dropped); labels are index maps and are never converted to RGB.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.atomic import atomic_write_bytes


class ImageReadError(ValueError):
    """A file does not decode or is not the kind of image expected."""


def _open(path: str | os.PathLike) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"{path}: cannot decode the image ({error}); replace the file "
                             "(re-download or re-extract the dataset).") from error
    return image


def read_infrared(path: str | os.PathLike) -> np.ndarray:
    """Infrared image as gray uint8 (H, W), 0-255 (``convert('L')``: equal channels stay exact)."""
    return np.asarray(_open(path).convert("L"))


def read_visible(path: str | os.PathLike) -> np.ndarray:
    """Visible image as RGB uint8 (H, W, 3), 0-255."""
    return np.asarray(_open(path).convert("RGB"))


def read_label(path: str | os.PathLike) -> np.ndarray:
    """Index-map label as uint8 (H, W) of class indices (255 = ignore).

    Palette ('P') images give their indices; a colour (RGB) file is a rendering, not a label.
    """
    image = _open(path)
    if image.mode in ("L", "P"):
        return np.asarray(image).copy() if image.mode == "P" else np.asarray(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 255:
            raise ImageReadError(f"{path}: label values {array.min()}..{array.max()} do not fit 0..255.")
        return array.astype(np.uint8)
    raise ImageReadError(f"{path}: a label must be a 1-channel index map, got mode {image.mode!r} "
                         "(a colour rendering such as Segmentation_visualize/ or color/ is not a label).")


def encode_png(array: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of a uint8 (H, W) gray or (H, W, 3) RGB array, without metadata (deterministic)."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3))):
        raise ValueError(f"write_png expects uint8 (H, W) or (H, W, 3), got {array.dtype} {array.shape}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def write_png(path: str | os.PathLike, array: np.ndarray, compress_level: int = 6) -> Path:
    """Write an 8-bit PNG atomically (temp file + rename)."""
    return atomic_write_bytes(path, encode_png(array, compress_level))
