"""Deterministic figures (matplotlib Agg, fixed dpi, no metadata): image grids and per-epoch curves."""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np

DPI = 100


def png_bytes(fig) -> bytes:
    """PNG of ``fig`` with the Software tag removed, so equal inputs give equal bytes."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height))


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """(H, W) class indices -> (H, W, 3) uint8 RGB with the dataset's palette (255 = ignore -> white)."""
    lut = np.full((256, 3), 255, dtype=np.uint8)
    lut[: len(palette)] = np.asarray(palette, dtype=np.uint8)
    return lut[label]


def image_grid(rows: list[list[np.ndarray | None]], row_labels: list[str], col_labels: list[str], title: str) -> bytes:
    """Grid of uint8 images (H, W) or (H, W, 3); None leaves a cell blank. Returns PNG bytes."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig = _figure(2.0 * n_cols, 1.6 * n_rows + 0.4)
    fig.suptitle(title, fontsize=9)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = fig.add_subplot(n_rows, n_cols, i * n_cols + j + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            image = row[j] if j < len(row) else None
            if image is not None:
                ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            if i == 0:
                ax.set_title(col_labels[j], fontsize=7)
            if j == 0:
                ax.set_ylabel(row_labels[i], fontsize=7)
    fig.tight_layout()
    return png_bytes(fig)


def curves(series: dict[str, list[tuple[float, float]]], title: str, ylabel: str,
           markers: dict[str, float] | None = None, log: bool = False) -> bytes:
    """Line plot of (epoch, value) series; ``markers`` draws labelled vertical lines (e.g. stage switch)."""
    fig = _figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    for name, points in series.items():
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", markersize=3, label=name)
    for name, x in (markers or {}).items():
        ax.axvline(x, color="grey", linestyle="--", linewidth=1)
        ax.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, ha="left", va="top")
    if log:
        ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if any(series.values()):
        ax.legend(fontsize=7)
    fig.tight_layout()
    return png_bytes(fig)


def history_series(rows: list[dict[str, str]], column: str) -> list[tuple[float, float]]:
    """(epoch, value) of a history.csv column, skipping empty and non-finite cells."""
    out = []
    for i, row in enumerate(rows):
        try:
            value = float(row.get(column) or "nan")
        except ValueError:
            continue
        if np.isfinite(value):
            out.append((float(row.get("epoch") or i), value))
    return out


def stage_switch(rows: list[dict[str, str]]) -> float | None:
    """First epoch of stage II (where the history says stage 2), or None."""
    for i, row in enumerate(rows):
        if str(row.get("stage", "")).strip() in ("2", "2.0"):
            return float(row.get("epoch") or i)
    return None


def read_rgb(path) -> np.ndarray:
    """Any PNG as (H, W, 3) uint8 RGB (palette and gray images converted)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
