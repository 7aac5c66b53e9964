"""Per-epoch training history: rows of floats -> a deterministic CSV (no timings).

Columns are epoch means over the epoch's steps: loss_total = c_fus L_fus + c_csc L_csc as
weighted (UCW's 1/2 s_k terms excluded), w_csc = c_csc / c_fus, gradient norms over the fusion
model's parameters, alpha_cf (Eq. 8) and cos phi_cf (Eq. 9); loss_val is the validation L_fus.
Stage-I epochs leave the CSC columns empty.
"""
from __future__ import annotations

import math

COLUMNS = (
    "epoch", "stage", "loss_fus", "loss_csc", "loss_total", "loss_val", "w_csc",
    "grad_norm_fus", "grad_norm_csc", "alpha_cf", "cos_phi_cf",
)


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""  # not applicable (e.g. L_csc in stage I)
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}" if abs(value) < 1e-4 and value != 0 else f"{value:.6f}"


def history_csv(rows: list[dict]) -> str:
    """CSV text with :data:`COLUMNS`; floats with 6 decimals (6 significant digits below 1e-4)."""
    lines = [",".join(COLUMNS)]
    lines += [",".join(_cell(row.get(c)) for c in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"
