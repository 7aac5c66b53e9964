"""Score many image triples: same-size batches, bounded memory, per-image rows and the mean.

Used by ``ssvif metrics`` and by ``stages.fusion_metrics``. Only ``batch_size`` images
are in memory at a time; per-image results (10 numbers each) are kept for the CSV.
"""
from __future__ import annotations

import csv
import io
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

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


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    # ImportError: once ultralytics is imported, Image.open retries unknown files through an
    # optional HEIF plugin (pi_heif) and fails with ModuleNotFoundError when it is absent.
    except (OSError, UnidentifiedImageError, ImportError) as err:
        raise ImageError(f"{path}: cannot read this image ({err}).") from err


def check_sizes(triples: Iterable[Triple]) -> list[tuple[tuple[int, int], Triple]]:
    """Pair every triple with its size; a size mismatch is an error naming the files."""
    sized = []
    for t in triples:
        sizes = {p: image_size(p) for p in (t.fused, t.ir, t.vis)}
        if len(set(sizes.values())) != 1:
            listing = ", ".join(f"{p} is {h}x{w}" for p, (h, w) in sizes.items())
            raise ImageError(f"size mismatch for {t.stem!r}: {listing}; the metrics never resize.")
        sized.append((sizes[t.fused], t))
    return sized


def _batches(triples: list[Triple], batch_size: int) -> Iterator[list[Triple]]:
    sized = sorted(check_sizes(triples), key=lambda st: (st[0], st[1].stem))
    for _, group in groupby(sized, key=lambda st: st[0]):
        group = [t for _, t in group]
        for i in range(0, len(group), batch_size):
            yield group[i : i + batch_size]


def _load(batch: list[Triple], device: torch.device, readers: ThreadPoolExecutor) -> list[torch.Tensor]:
    """Fused, infrared (3 channels; gray taken by the protocol) and visible (B, 3, H, W) uint8.

    The 3B files decoded on the reader threads (OpenCV releases the GIL while decoding).
    """
    images = list(readers.map(read_rgb8, [p for t in batch for p in (t.fused, t.ir, t.vis)]))
    return [torch.from_numpy(np.stack(images[k::3])).permute(0, 3, 1, 2).to(device) for k in range(3)]


def score_triples(triples: Iterable[Triple], batch_size: int = 4, progress: bool = True) -> list[dict]:
    """Per-image rows {"image": stem, metric: float, ...} sorted by stem (NaN kept as NaN)."""
    from tqdm import tqdm

    triples = list(triples)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    with (tqdm(total=len(triples), desc="fusion metrics", unit="img", disable=not progress) as bar,
          ThreadPoolExecutor(max(1, torch.get_num_threads())) as readers):
        for batch in _batches(triples, batch_size):
            fused, ir, vis = _load(batch, device, readers)
            scores = fusion_metrics(fused, ir, vis)
            for i, t in enumerate(batch):
                rows.append({"image": t.stem, **{k: float(v[i]) for k, v in scores.items()}})
            bar.update(len(batch))
    return sorted(rows, key=lambda r: r["image"])


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
