"""LaTeX (booktabs) rendering of a built table: reproduced value with the paper's value below it."""
from __future__ import annotations

from pipeline.report.build import Cell, Table
from pipeline.report.format import DASH, header, number, signed
from pipeline.report.spec import ColumnSpec

MARKUP = {"best": "\\textbf{%s}", "second": "\\underline{%s}", None: "%s"}
ESCAPES = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "#": "\\#", "_": "\\_", "$": "\\$",
           "Δ": "$\\Delta$", "λ": "$\\lambda$", "↑": "$\\uparrow$", "↓": "$\\downarrow$", "–": "--"}


def escape(text: str) -> str:
    return "".join(ESCAPES.get(ch, ch) for ch in text)


def cell_tex(cell: Cell, col: ColumnSpec) -> str:
    if col.higher is None and cell.value is None:
        return escape(number(cell.published, col.digits)) if cell.published is not None else ""
    value = number(cell.value, col.digits, pm="$\\pm$")
    value = escape(value) if value == DASH else MARKUP[cell.mark] % value
    if cell.published is None:
        return value
    pub = MARKUP[cell.mark_published] % number(cell.published, col.digits)
    diff = signed(cell.diff, col.digits)
    return f"{value} {{\\scriptsize ({pub}{'; ' + diff if diff else ''})}}"


def render_tex(table: Table) -> str:
    spec = table.spec
    has_groups = any(r.group for r in table.rows)
    first = (["Group"] if has_groups else []) + ["Method"]
    heads = first + [header(c) for c in spec.columns]
    lines = [
        f"% Table {spec.number}: {spec.title}",
        "% Cells: reproduced (published; difference). Needs \\usepackage{booktabs}.",
        "\\begin{tabular}{" + "l" * len(first) + "c" * len(spec.columns) + "}",
        "\\toprule",
        " & ".join(escape(h) for h in heads) + " \\\\",
        "\\midrule",
    ]
    previous = None
    for row in table.rows:
        if has_groups and previous is not None and row.group != previous:
            lines.append("\\midrule")
        previous = row.group
        cells = ([escape(row.group)] if has_groups else []) + [escape(row.name)]
        cells += [cell_tex(c, col) for c, col in zip(row.cells, spec.columns)]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)
