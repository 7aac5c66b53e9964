"""Gradient analysis (Sec. IV-F): average projection coefficient alpha_cf over stage II."""
from __future__ import annotations

import csv
import io
import math

from pipeline.report.published import published_alpha_cf


def read_history(text: str) -> list[dict[str, str]]:
    """Rows of a history.csv (one per epoch) as dicts of strings."""
    return list(csv.DictReader(io.StringIO(text)))


def cell_number(raw: str | None) -> float | None:
    """A history.csv cell as a float; None when empty or not finite."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def stage_two_series(rows: list[dict[str, str]], column: str) -> list[tuple[int, float]]:
    """(epoch, value) of ``column`` over the stage-II epochs (empty or NaN cells skipped)."""
    if rows and ("stage" not in rows[0] or column not in rows[0]):
        raise KeyError(f"history.csv needs columns 'stage' and {column!r}; it has {', '.join(rows[0])}")
    out = []
    for i, row in enumerate(rows):
        value = cell_number(row.get(column))
        if str(row["stage"]).strip() in ("2", "2.0") and value is not None:
            out.append((int(float(row.get("epoch") or i)), value))
    return out


def gradient_summary(rows: list[dict[str, str]], run: str) -> dict:
    """Mean alpha_cf over stage II (mean of the per-epoch means) beside the paper's 1.05e-2."""
    series = stage_two_series(rows, "alpha_cf")
    published = published_alpha_cf()
    mean = sum(v for _, v in series) / len(series) if series else None
    return {
        "run": run,
        "alpha_cf_mean_stage2": None if mean is None else round(mean, 6),
        "alpha_cf_published": published,
        "difference": None if mean is None else round(mean - published, 6),
        "same_sign_as_paper": None if mean is None else (mean > 0) == (published > 0),
        "stage2_epochs": len(series),
        "per_epoch": [{"epoch": e, "alpha_cf": round(v, 6)} for e, v in series],
    }
