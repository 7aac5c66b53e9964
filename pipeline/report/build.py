"""Build Tables I-IX: reproduced value beside the published one, difference, paper-style marks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.report.published import PublishedTable, published_table
from pipeline.report.run_match import RequiredRun
from pipeline.report.seed_stats import is_spread, within_spread
from pipeline.report.sources import Methods, not_run, reproducible, row_label, split_key, table_cells
from pipeline.report.spec import WEIGHTING_LABELS, ColumnSpec, TableSpec

NOT_RUN = "not run"  # the reproduced cells of a row whose run params.yaml does not have


@dataclass
class Cell:
    """One table cell: ``value`` reproduced here, ``published`` by the paper (number or text)."""

    value: Any = None
    published: Any = None
    mark: str | None = None  # "best" | "second" among reproduced values of the row's mark group
    mark_published: str | None = None  # the same ranking over the published values

    @property
    def diff(self) -> float | None:
        if isinstance(self.value, (int, float)) and isinstance(self.published, (int, float)):
            return float(self.value) - float(self.published)
        return None

    def within(self, tolerance: float) -> bool | None:
        """|reproduced - published| <= tolerance * |published| (None when either is missing)."""
        if is_spread(self.value):  # several seeds: the paper's value within their min..max
            return within_spread(self.value, self.published)
        d = self.diff
        return None if d is None else abs(d) <= tolerance * abs(float(self.published)) + 1e-12


@dataclass
class Row:
    name: str
    group: str
    mark_group: str | None
    methods: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    missing: RequiredRun | None = None  # settings of the run this row needs and params.yaml lacks


@dataclass
class Table:
    spec: TableSpec
    rows: list[Row]
    tolerance: float

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return self.spec.columns

    def scorecard(self) -> tuple[int, int]:
        """(reproduced cells within tolerance, reproduced cells that have a published value)."""
        flags = [c.within(self.tolerance) for r in self.rows for c in r.cells]
        return sum(f is True for f in flags), sum(f is not None for f in flags)

    def missing_rows(self) -> list[tuple[str, RequiredRun]]:
        """(row name, settings of the run it needs) for every row printing "not run"."""
        return [(r.name, r.missing) for r in self.rows if r.missing is not None]


def build_table(spec: TableSpec, methods: Methods, store, tolerance: float,
                published: PublishedTable | None = None) -> Table:
    """Fill ``spec`` with published values and the metric files read through ``store``."""
    published = published or published_table(spec.id)
    rows = []
    for r in spec.rows:
        name = r.name
        if r.weighting_row and methods.weighting != "gdwa":
            name = f"{WEIGHTING_LABELS[methods.weighting]} (headline run; paper row: GDWA)"
        row = Row(name, r.group, r.mark_group,
                  cells=[Cell(published=published.value(r.published, c.key)) for c in spec.columns])
        if not_run(r.source, methods, row_label(spec, r.name)):
            row.missing = r.source[1]
            for cell, col in zip(row.cells, spec.columns):
                if reproducible(col):
                    cell.value = NOT_RUN
        rows.append(row)
    for method, mark_group in methods.extra_methods(spec):
        rows.append(Row(method, "rule" if method in methods.rules else "external", mark_group,
                        cells=[Cell() for _ in spec.columns]))
    col_index = {c.key: j for j, c in enumerate(spec.columns)}
    for i, _name, col, method, rel in table_cells(spec, methods):
        value = store.value(rel, method, split_key(col.key)[1])
        rows[i].cells[col_index[col.key]].value = value
        if method not in rows[i].methods:
            rows[i].methods.append(method)
    table = Table(spec, rows, tolerance)
    _mark(table)
    return table


def _mark(table: Table) -> None:
    """Best (and second best) per column within each mark group, on values rounded as printed."""
    for j, col in enumerate(table.columns):
        if col.higher is None:
            continue
        for attr, mark_attr in (("value", "mark"), ("published", "mark_published")):
            groups: dict[str, list[tuple[Cell, float]]] = {}
            for row in table.rows:
                v = getattr(row.cells[j], attr)
                if row.mark_group is not None and isinstance(v, (int, float)):
                    groups.setdefault(row.mark_group, []).append((row.cells[j], round(float(v), col.digits)))
            for members in groups.values():
                # A single reproduced row has nothing to be compared with: leave it unmarked.
                if len(members) < 2:
                    continue
                ranked = sorted({v for _, v in members}, reverse=col.higher)
                for rank, name in zip(ranked, table.spec.marks):
                    for cell, v in members:
                        if v == rank:
                            setattr(cell, mark_attr, name)
