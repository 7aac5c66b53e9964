"""Outputs of the segmentation evaluation: metrics JSON body, confusion matrix files, palette PNGs."""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np
from PIL import Image


def round_floats(value, decimals: int = 4):
    """Round every float of a nested structure (deterministic JSON)."""
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, dict):
        return {k: round_floats(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(v, decimals) for v in value]
    return value


def palette_png(label: np.ndarray, palette: Sequence[Sequence[int]]) -> bytes:
    """Index map uint8 (H,W) -> bytes of a palette ('P' mode) PNG coloured with the dataset palette."""
    image = Image.fromarray(label.astype(np.uint8), mode="P")
    flat = [int(c) for rgb in palette for c in rgb]
    image.putpalette(flat + [0] * (768 - len(flat)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def confusion_csv(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    """Long-form CSV ``actual,predicted,count`` (pixels), one row per cell, for tables and plots."""
    lines = ["actual,predicted,count"]
    for i, actual in enumerate(class_names):
        for j, predicted in enumerate(class_names):
            lines.append(f"{actual},{predicted},{int(matrix[i, j])}")
    return "\n".join(lines) + "\n"


def confusion_png(matrix: np.ndarray, class_names: Sequence[str], title: str) -> bytes:
    """Row-normalised confusion heatmap (recall per ground-truth class) as PNG bytes (byte-stable Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = matrix.sum(1, keepdims=True).astype(np.float64)
    norm = np.divide(matrix, rows, out=np.zeros_like(rows * matrix, dtype=np.float64), where=rows > 0)
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.45 * n, 0.8 + 0.45 * n), dpi=80)
    ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(n), class_names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), class_names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("ground truth")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
