"""Fusing whole images with a trained model (or a rule: `pipeline.rules.registry.rule_fuser`), 8-bit RGB PNG out.

`fuse_files` is the one loop both fuse stages (and `ssvif fuse`) run: read a pair, fuse it,
encode and write its PNG. Images are independent, so they run on worker threads, one image
per worker, each worker with the caller's intra-op thread count: every image goes through
exactly the operations, on exactly the thread count, of a one-image-at-a-time run, so the
bytes do not depend on the number of workers. torch, PNG decoding and encoding (zlib) release
the GIL, so one worker's PNG work overlaps another's fusing. Batching images instead was
measured not to pay on CPU and changes SwinFusion/EMMA outputs by 1 gray level on some
pixels (benchmarks/fuse_throughput.py).
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from pipeline.cpus import available_cpus
from pipeline.layout import stem_image
from pipeline.models.inputs import prepare_inputs, to_rgb, unit_images

# (uint8 infrared (H, W), uint8 visible (H, W, 3)) -> uint8 RGB (H, W, 3)
Fuser = Callable[[np.ndarray, np.ndarray], np.ndarray]


def to_tensors(ir: np.ndarray, vis: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ir (H, W) and vis (H, W, 3) -> (1, 1, H, W), (1, 3, H, W) float in [0, 1] (as training: `unit_images`)."""
    if ir.shape[:2] != vis.shape[:2]:
        raise ValueError(f"infrared {ir.shape[:2]} and visible {vis.shape[:2]} differ in size")
    ir_t, vis_t = unit_images(ir, vis)
    return ir_t[None], vis_t[None]


@torch.inference_mode()
def fuse_arrays(model, channels: int, ir: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """One pair of uint8 arrays -> the fused uint8 RGB (H, W, 3); Y outputs take the visible CbCr."""
    device = next(model.parameters()).device
    ir_t, vis_t = (t.to(device) for t in to_tensors(ir, vis))
    fused = model(*prepare_inputs(ir_t, vis_t, channels))  # the training step's inputs (pipeline.models.inputs)
    rgb = to_rgb(fused, vis_t)[0].permute(1, 2, 0)
    return (rgb * 255).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def model_fuser(model, channels: int) -> Fuser:
    """The `Fuser` of a trained fusion model (see `fuse_arrays`)."""
    return functools.partial(fuse_arrays, model, channels)


WORKERS_ENV = "SSVIF_FUSE_WORKERS"  # overrides image_workers (e.g. 1 on a CPU shared with other jobs)


def image_workers(threads: int, device: torch.device | str = "cpu") -> int:
    """Images fused at once: one per `threads` available cores on CPU; two on an accelerator
    (one image is read, encoded and written while the other is fused); $SSVIF_FUSE_WORKERS if set.

    Output bytes never depend on it (see the module docstring); only the wall time does. On a CPU
    that other jobs keep busy, parallel workers gain nothing and can lose a little.
    """
    override = os.environ.get(WORKERS_ENV, "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"{WORKERS_ENV}={override!r}: give a whole number >= 1 (images fused at once).")
        return int(override)
    if torch.device(device).type != "cpu":
        return 2
    return max(1, available_cpus() // max(1, threads))


def fuse_files(fuse: Fuser, pairs: Iterable[tuple[str, Path, Path]], out_dir: Path, *, workers: int = 1,
               threads: int | None = None, log: Callable[[str], None] | None = None) -> int:
    """Fuse (stem, ir_path, vis_path) pairs into out_dir/<stem>.png; returns the count.

    ``workers`` threads each take the next pair and read, fuse, encode and write it (no
    hand-offs between threads per image: each worker's PNG encoding overlaps the others'
    fusing), each with ``threads`` intra-op threads (default: the caller's). On any error
    nothing new starts, the running images are finished and the error is raised: a caller
    inside `atomic_dir` then removes the partial folder, and no thread writes into it afterwards.
    """
    from pipeline.data.io import read_infrared, read_visible, write_png

    pairs, out_dir = list(pairs), Path(out_dir)
    threads = threads or torch.get_num_threads()

    def one(stem: str, ir_path: Path, vis_path: Path) -> None:
        try:
            image = fuse(read_infrared(ir_path), read_visible(vis_path))
        except ValueError as err:
            raise ValueError(f"{stem}: {err} ({ir_path}, {vis_path})") from err
        write_png(stem_image(out_dir, stem), image)

    pool = ThreadPoolExecutor(max(1, int(workers)), thread_name_prefix="fuse", initializer=torch.set_num_threads,
                              initargs=(threads,))
    try:
        futures = [pool.submit(one, *pair) for pair in pairs]
        for done, future in enumerate(as_completed(futures), 1):
            future.result()  # the first error raises here; `finally` cancels what has not started
            if log and (done % 50 == 0 or done == len(pairs)):
                log(f"fused {done}/{len(pairs)}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return len(pairs)


def fuse_pairs(model, channels: int, pairs: Iterable[tuple[str, Path, Path]], out_dir: Path,
               log: Callable[[str], None] | None = None, workers: int | None = None) -> int:
    """Fuse (stem, ir_path, vis_path) pairs with a model into out_dir/<stem>.png; returns the count.

    ``workers`` defaults to `image_workers` for the caller's thread count and the model's device.
    """
    if workers is None:
        workers = image_workers(torch.get_num_threads(), next(model.parameters()).device)
    return fuse_files(model_fuser(model, channels), pairs, out_dir, workers=workers, log=log)


def split_pairs(spec, root: str | Path, split: dict) -> list[tuple[str, Path, Path]]:
    """(stem, ir, vis) for every stem of a split file (train, val, test), in that order."""
    from pipeline.data.raw_layout import pair_paths

    pairs = []
    for part in ("train", "val", "test"):
        for stem in split.get(part, []):
            paths = pair_paths(spec, root, stem, part)
            pairs.append((stem, paths["ir"], paths["vis"]))
    return pairs
