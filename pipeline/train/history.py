"""Per-epoch training history: rows of floats -> a deterministic CSV (no timings)."""
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
