"""Number and header formatting shared by the table renderers."""
from __future__ import annotations

from typing import Any

from pipeline.report.seed_stats import is_spread, spread_text
from pipeline.report.spec import ColumnSpec

DASH = "–"


def number(value: Any, digits: int, pm: str = "±") -> str:
    """A value as the paper prints it (fixed decimals); several seeds' as mean ``pm`` std; text unchanged; None as a dash."""
    if value is None:
        return DASH
    if is_spread(value):
        return spread_text(value, digits, pm)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.{digits}f}"
    return str(value)


def signed(diff: float | None, digits: int) -> str:
    if diff is None:
        return ""
    # round first so that a tiny negative difference does not print as "-0.00"
    return f"{round(diff, digits) + 0.0:+.{digits}f}"


def header(col: ColumnSpec) -> str:
    """Column header with the paper's arrow: up = higher is better, down = lower (ΔE)."""
    if col.higher is None:
        return col.header
    return f"{col.header} {'↑' if col.higher else '↓'}"


def csv_number(value: Any) -> str:
    """Machine-readable value: 6 decimals (the project's metric rounding), text unchanged, empty for None."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{round(float(value), 6):.6f}".rstrip("0").rstrip(".")
    return str(value)
