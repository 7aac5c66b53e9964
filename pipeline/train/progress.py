"""The per-epoch progress line a training run prints (stderr; not part of any output)."""
from __future__ import annotations


def progress_line(row: dict, epochs: int, seconds: float) -> str:
    """e.g. ``epoch 3/8  stage II  L_fus 0.1234  L_csc 1.2345  w_csc 0.1  alpha_cf 0.01  val 0.1300  2.1s``."""
    parts = [f"epoch {row['epoch']}/{epochs}", f"stage {'I' * row['stage']}", f"L_fus {row['loss_fus']:.4f}"]
    if "loss_csc" in row:
        parts += [f"L_csc {row['loss_csc']:.4f}", f"w_csc {row['w_csc']:.4g}"]
    if "alpha_cf" in row:
        parts += [f"alpha_cf {row['alpha_cf']:.3g}"]
    parts += [f"val {row['loss_val']:.4f}", f"{seconds:.1f}s"]
    return "  ".join(parts)
