"""Score many image triples: one image per worker, per-image rows and the mean.

Used by ``ssvif metrics`` and by ``stages.fusion_metrics``. Each worker thread reads and scores
one image at a time (OpenCV and numpy release the GIL in their loops), so only ``workers``
images are in memory; a value never depends on the worker count (every image is scored alone).
"""
from __future__ import annotations

import csv
import io
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from pipeline.metrics.fusion import METRICS, fusion_metrics
from pipeline.metrics.protocol import ImageError, read_rgb8

DECIMALS = 6


@dataclass(frozen=True)
class Triple:
    """One image to score: its stem and the fused, infrared and visible files."""

    stem: str
    fused: Path
    ir: Path
    vis: Path


def score_triple(t: Triple) -> dict:
    """The row {"image": stem, metric: float, ...} of one triple; a size mismatch names the files."""
    images = {p: read_rgb8(p) for p in (t.fused, t.ir, t.vis)}
    sizes = {p: im.shape[:2] for p, im in images.items()}
    if len(set(sizes.values())) != 1:
        listing = ", ".join(f"{p} is {h}x{w}" for p, (h, w) in sizes.items())
        raise ImageError(f"size mismatch for {t.stem!r}: {listing}; the metrics never resize.")
    try:
        # infrared: a 1-channel file is read replicated; the protocol takes its gray (the same values)
        scores = fusion_metrics(images[t.fused], images[t.ir], images[t.vis])
    except ValueError as err:
        raise ValueError(f"{t.stem}: {err} ({t.fused}, {t.ir}, {t.vis})") from err
    return {"image": t.stem, **scores}


def score_triples(triples: Iterable[Triple], workers: int = 1, progress: bool = True) -> list[dict]:
    """Per-image rows {"image": stem, metric: float, ...} sorted by stem (NaN kept as NaN)."""
    from tqdm import tqdm

    import cv2

    from pipeline.malloc import reuse_freed_memory

    reuse_freed_memory()  # ~30 % of the CPU time went to page faults on fresh temporaries
    triples = sorted(triples, key=lambda t: t.stem)
    rows = []
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # parallel images, not OpenCV's threads inside each filter (they only add overhead)
    try:
        with (tqdm(total=len(triples), desc="fusion metrics", unit="img", disable=not progress) as bar,
              ThreadPoolExecutor(max(1, int(workers)), thread_name_prefix="metrics") as pool):
            for row in pool.map(score_triple, triples):
                rows.append(row)
                bar.update(1)
    finally:
        cv2.setNumThreads(cv2_threads)  # the caller's OpenCV thread count, also after an error
    return rows


def _round(value: float) -> float:
    return value if math.isnan(value) else round(value, DECIMALS)


def summarise(rows: list[dict]) -> dict:
    """Mean of each metric over the images whose value is not NaN, the image count and NaN counts.

    NaN values (e.g. Qabf with no gradient anywhere) are left out of the mean and counted
    in ``nan_counts``; a metric NaN on every image has mean NaN (written as null).
    """
    out: dict = {"count": len(rows), "nan_counts": {}}
    for name in METRICS:
        values = np.array([r[name] for r in rows], dtype=np.float64)
        finite = values[~np.isnan(values)]
        out["nan_counts"][name] = int(np.isnan(values).sum())
        out[name] = _round(float(finite.mean())) if finite.size else float("nan")
    return out


def rows_to_csv(rows: list[dict]) -> str:
    """Per-image CSV text: image, then the metrics in registry order, 6 decimals, NaN as 'nan'."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["image", *METRICS])
    for r in rows:
        writer.writerow([r["image"], *(("nan" if math.isnan(r[k]) else f"{r[k]:.{DECIMALS}f}") for k in METRICS)])
    return buf.getvalue()
