"""Rendering: golden tables, determinism, and the cell formats of md / csv / tex."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipeline.report.build import build_table
from pipeline.report.render_csv import render_csv
from pipeline.report.render_md import render_md
from pipeline.report.render_tex import render_tex
from pipeline.report.sources import MetricStore
from pipeline.report.spec import TABLE2, TABLE3, TABLES

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("spec", [TABLE2, TABLE3], ids=lambda s: s.id)
@pytest.mark.parametrize("fmt, render", [("md", render_md), ("csv", render_csv), ("tex", render_tex)])
def test_golden(spec, fmt, render, metrics_dir, methods):
    """Frozen renderings of the fixture metrics (regenerate deliberately if the layout changes)."""
    text = render(build_table(spec, methods, MetricStore(metrics_dir), 0.05))
    assert text == (GOLDEN / f"{spec.id}.{fmt}").read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.id)
def test_rendering_is_deterministic(spec, metrics_dir, methods):
    outs = [[r(build_table(spec, methods, MetricStore(metrics_dir), 0.05)) for r in (render_md, render_csv, render_tex)]
            for _ in range(2)]
    assert outs[0] == outs[1]


def test_md_cell_shows_value_paper_and_difference(metrics_dir, methods):
    table = build_table(TABLE3, methods, MetricStore(metrics_dir), 0.05)
    md = render_md(table)
    row = next(line for line in md.splitlines() if line.startswith("| i | SwinF. / Original"))
    cell = table.rows[0].cells[0]
    assert f"{cell.value:.2f}" in row and "/ 3.85 (" in row
    assert "ΔE ↓" in md and "MI ↑" in md


def test_csv_has_value_paper_diff_columns(metrics_dir, methods):
    rows = list(csv.DictReader(io.StringIO(render_csv(build_table(TABLE3, methods, MetricStore(metrics_dir), 0.05)))))
    first = rows[0]
    assert float(first["fmb/MI_paper"]) == 3.85
    assert float(first["fmb/MI_diff"]) == pytest.approx(float(first["fmb/MI"]) - 3.85, abs=1e-6)


def test_tex_escapes_and_marks(metrics_dir, methods):
    tex = render_tex(build_table(TABLE3, methods, MetricStore(metrics_dir), 0.05))
    assert "w\\_csc" in tex and "$\\Delta$E" in tex and "\\textbf{" in tex
    assert tex.count("\\begin{tabular}") == 1 and tex.rstrip().endswith("\\end{tabular}")
