"""CSV rendering of a built table: one row per method, value, paper value and difference per column."""
from __future__ import annotations

import csv
import io

from pipeline.report.build import Table
from pipeline.report.format import csv_number


def render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = ["group", "method", "reproduced_by"]
    for col in table.columns:
        head += [col.key, f"{col.key}_paper", f"{col.key}_diff"]
    writer.writerow(head)
    for row in table.rows:
        line = [row.group, row.name, " ".join(row.methods)]
        for cell in row.cells:
            line += [csv_number(cell.value), csv_number(cell.published), csv_number(cell.diff)]
        writer.writerow(line)
    return out.getvalue()
