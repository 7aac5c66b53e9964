"""The published values file against the paper: table shapes, and every number traced to the text."""
from __future__ import annotations

import re

import pytest

from pipeline.report.published import load_published, published_alpha_cf, published_table
from pipeline.report.spec import TABLES

# (rows, value columns besides the method) of each table as printed in the paper.
PAPER_SHAPES = {
    "table1": (9, 15), "table2": (9, 15), "table3": (14, 5), "table4": (6, 4), "table5": (10, 1),
    "table6": (2, 8), "table7": (3, 8), "table8": (2, 8), "table9": (9, 9),
}


@pytest.mark.parametrize("table_id", sorted(PAPER_SHAPES))
def test_shape_matches_paper(table_id):
    table = published_table(table_id)
    assert (len(table.rows), len(table.columns)) == PAPER_SHAPES[table_id]


def test_gradient_coefficient():
    assert published_alpha_cf() == pytest.approx(1.05e-2)


def test_table6_keeps_only_legible_cells():
    rows = published_table("table6").rows
    legible = {k: {c: v for c, v in r.items() if v is not None} for k, r in rows.items()}
    assert legible == {"n = 9": {"fmb/SSIM": 1.01}, "n = 15": {"fmb/SSIM": 1.02}}


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.id)
def test_every_spec_row_and_column_is_published(spec):
    table = published_table(spec.id)
    assert {r.published for r in spec.rows if r.published} <= set(table.rows)
    assert set(table.columns) <= {c.key for c in spec.columns}


def _paper_number_lines(text: str) -> list[list[float]]:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"</?[ub]>|\[\d+\]|\(256,256,\d\)", "", line)
        lines.append([float(x) for x in re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", line)])
    return lines


def _contiguous(seq: list[float], line: list[float]) -> bool:
    n = len(seq)
    return any(line[i:i + n] == seq for i in range(len(line) - n + 1))


@pytest.mark.parametrize("table_id", sorted(PAPER_SHAPES))
def test_numbers_occur_in_paper_in_order(shared_dir, table_id):
    """Each row's numbers appear, in order and contiguous, on one line of the paper's text."""
    lines = _paper_number_lines((shared_dir / "paper" / "ssvif-paper.txt").read_text())
    for key, row in published_table(table_id).rows.items():
        numbers = [float(v) for v in row.values() if isinstance(v, (int, float))]
        assert any(_contiguous(numbers, line) for line in lines), f"{table_id} row {key!r}: {numbers} not in paper"


def test_file_has_all_tables():
    assert set(load_published()) == {"gradient", *PAPER_SHAPES}
