"""Fused images and their labels as tensors for segmentation fine-tuning.

A sample is (fused image path, label path). Fused images are 8-bit RGB PNGs; labels are
read with the reader the caller passes (the dataset's ``pipeline.data.io.read_label``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image

IGNORE_INDEX = 255


def read_fused(path: str | Path) -> np.ndarray:
    """A fused image file -> uint8 (H, W, 3) RGB."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read fused image {path}: {err}; regenerate the method's fused images.") from err


def to_tensors(image: np.ndarray, label: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (H,W,3), uint8 (H,W) -> float (3,H,W) in [0,1], int64 (H,W)."""
    img = torch.from_numpy(np.array(image, copy=True)).permute(2, 0, 1).float() / 255.0
    return img, torch.from_numpy(np.array(label, copy=True)).long()


def random_crop(image: torch.Tensor, label: torch.Tensor, size: int, generator: torch.Generator):
    """Same random crop (and horizontal flip) of image (3,H,W) and label (H,W); pads with ignore if small."""
    _, h, w = image.shape
    ph, pw = max(size - h, 0), max(size - w, 0)
    if ph or pw:
        image = torch.nn.functional.pad(image, (0, pw, 0, ph))
        label = torch.nn.functional.pad(label, (0, pw, 0, ph), value=IGNORE_INDEX)
        h, w = h + ph, w + pw
    top = int(torch.randint(0, h - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - size + 1, (1,), generator=generator))
    image, label = image[:, top:top + size, left:left + size], label[top:top + size, left:left + size]
    if bool(torch.rand((), generator=generator) < 0.5):
        image, label = image.flip(-1), label.flip(-1)
    return image, label


class SegmentationSamples(torch.utils.data.Dataset):
    """Pairs of (fused image, label); whole images, checked for equal sizes and label range."""

    def __init__(self, pairs: Sequence[tuple[Path, Path]], read_label: Callable[[Path], np.ndarray],
                 num_classes: int):
        self.pairs, self.read_label, self.num_classes = list(pairs), read_label, num_classes

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image_path, label_path = self.pairs[index]
        image, label = read_fused(image_path), self.read_label(label_path)
        if image.shape[:2] != label.shape:
            raise ValueError(f"{image_path} is {image.shape[1]}x{image.shape[0]} but its label {label_path} is "
                             f"{label.shape[1]}x{label.shape[0]}: fused images must keep the source size.")
        bad = (label >= self.num_classes) & (label != IGNORE_INDEX)
        if bad.any():
            raise ValueError(f"{label_path}: label values {sorted(set(label[bad].tolist()))} outside 0..{self.num_classes - 1} (255 = ignore).")
        return to_tensors(image, label)
