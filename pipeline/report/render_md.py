"""Markdown rendering of a built table (GitHub flavour)."""
from __future__ import annotations

from pipeline.report.build import Cell, Table
from pipeline.report.format import DASH, header, number, signed
from pipeline.report.seed_stats import table_note
from pipeline.report.spec import ColumnSpec

MARKUP = {"best": ("**", "**"), "second": ("<ins>", "</ins>"), None: ("", "")}


def _marked(text: str, mark: str | None) -> str:
    if text == DASH:
        return text
    left, right = MARKUP[mark]
    return f"{left}{text}{right}"


def cell_md(cell: Cell, col: ColumnSpec) -> str:
    """``reproduced / paper (difference)``; a side that does not exist is left out or dashed."""
    pub = _marked(number(cell.published, col.digits), cell.mark_published)
    if col.higher is None and cell.value is None:  # text column or unranked published-only
        return number(cell.published, col.digits) if cell.published is not None else ""
    value = _marked(number(cell.value, col.digits), cell.mark)
    if cell.published is None:
        return value
    diff = signed(cell.diff, col.digits)
    return f"{value} / {pub}" + (f" ({diff})" if diff else "")


def render_md(table: Table) -> str:
    spec = table.spec
    has_groups = any(r.group for r in table.rows)
    heads = (["Group"] if has_groups else []) + ["Method"] + [header(c) for c in spec.columns] + ["Reproduced by"]
    lines = [
        f"# Table {spec.number}: {spec.title}",
        "",
        "Each cell: reproduced here / published in the paper (difference). "
        + _marks_note(spec.marks) + f" Tolerance for the scorecard: ±{table.tolerance:.0%} of the paper's value." + table_note(table),
        "",
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(" --- " for _ in heads) + "|",
    ]
    for row in table.rows:
        cells = [cell_md(c, col) for c, col in zip(row.cells, spec.columns)]
        first = ([row.group] if has_groups else []) + [row.name]
        lines.append("| " + " | ".join(first + cells + [", ".join(row.methods) or DASH]) + " |")
    within, total = table.scorecard()
    lines += ["", f"Reproduced cells within tolerance: {within} of {total}.", ""]
    return "\n".join(lines)


def _marks_note(marks: tuple[str, ...]) -> str:
    if not marks:
        return "Not ranked (as in the paper)."
    note = "**Bold**: best"
    if "second" in marks:
        note += ", <ins>underlined</ins>: second best"
    return note + " (within each group, separately for reproduced and published values)."
