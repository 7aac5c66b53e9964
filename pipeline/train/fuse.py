"""Fusing whole images with a trained model: full resolution, 8-bit RGB out."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from pipeline.train.inputs import model_inputs, to_rgb


def to_tensors(ir: np.ndarray, vis: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ir (H, W) and vis (H, W, 3) -> (1, 1, H, W), (1, 3, H, W) float in [0, 1]."""
    if ir.shape[:2] != vis.shape[:2]:
        raise ValueError(f"infrared {ir.shape[:2]} and visible {vis.shape[:2]} differ in size")
    ir_t = torch.from_numpy(np.array(ir, copy=True)).float().div(255)[None, None]
    vis_t = torch.from_numpy(np.array(vis, copy=True)).float().div(255).permute(2, 0, 1)[None]
    return ir_t, vis_t


@torch.inference_mode()
def fuse_arrays(model, channels: int, ir: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """One pair of uint8 arrays -> the fused uint8 RGB (H, W, 3); Y outputs take the visible CbCr."""
    device = next(model.parameters()).device
    ir_t, vis_t = (t.to(device) for t in to_tensors(ir, vis))
    fused = model(*model_inputs(ir_t, vis_t, channels))
    rgb = to_rgb(fused, vis_t)[0].permute(1, 2, 0)
    return (rgb * 255).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def fuse_pairs(model, channels: int, pairs: Iterable[tuple[str, Path, Path]], out_dir: Path,
               log: Callable[[str], None] | None = None) -> int:
    """Fuse (stem, ir_path, vis_path) pairs into out_dir/<stem>.png; returns the count."""
    from pipeline.data.io import read_infrared, read_visible, write_png

    pairs = list(pairs)
    for i, (stem, ir_path, vis_path) in enumerate(pairs, 1):
        try:
            fused = fuse_arrays(model, channels, read_infrared(ir_path), read_visible(vis_path))
        except ValueError as err:
            raise ValueError(f"{stem}: {err} ({ir_path}, {vis_path})") from err
        write_png(Path(out_dir) / f"{stem}.png", fused)
        if log and (i % 50 == 0 or i == len(pairs)):
            log(f"fused {i}/{len(pairs)}")
    return len(pairs)


def split_pairs(spec, root: str | Path, split: dict) -> list[tuple[str, Path, Path]]:
    """(stem, ir, vis) for every stem of a split file (train, val, test), in that order."""
    from pipeline.data.layout import pair_paths

    pairs = []
    for part in ("train", "val", "test"):
        for stem in split.get(part, []):
            paths = pair_paths(spec, root, stem, part)
            pairs.append((stem, paths["ir"], paths["vis"]))
    return pairs
