"""CSV rendering of a built table: one row per method, value, paper value and difference per column."""
from __future__ import annotations

import csv
import io

from pipeline.report.build import Table
from pipeline.report.format import csv_number
from pipeline.report.seed_stats import is_spread


def render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # Several seeds: <key> is the mean and <key>_std the sample std over the seeds (empty where one value).
    stds = any(is_spread(c.value) for r in table.rows for c in r.cells)
    head = ["group", "method", "reproduced_by"]
    for col in table.columns:
        head += [col.key, *([f"{col.key}_std"] if stds else []), f"{col.key}_paper", f"{col.key}_diff"]
    writer.writerow(head)
    for row in table.rows:
        line = [row.group, row.name, " ".join(row.methods)]
        for cell in row.cells:
            std = [csv_number(cell.value.std if is_spread(cell.value) else None)] if stds else []
            line += [csv_number(float(cell.value) if is_spread(cell.value) else cell.value), *std,
                     csv_number(cell.published), csv_number(cell.diff)]
        writer.writerow(line)
    return out.getvalue()
