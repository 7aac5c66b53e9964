"""Table building: values beside the paper, tolerance, best / second-best marks, missing files."""
from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.report.build import Cell, build_table
from pipeline.report.published import PublishedTable
from pipeline.report.sources import MetricStore, Methods, required_files
from pipeline.report.run_match import FMB_HEADLINE
from pipeline.report.spec import TABLE3, TABLE5, ColumnSpec, RowSpec, TableSpec

WEIGHTING = {"a": "fixed", "b": "ucw", "c": "dwa"}


class DictStore:
    def __init__(self, values):
        self.values = values

    def value(self, rel, method, metric):
        return self.values[(method, metric)]


def _tiny(marks=("best", "second")):
    cols = (ColumnSpec("fmb/MI", "MI"), ColumnSpec("fmb/dE", "ΔE", higher=False))
    rows = tuple(RowSpec(n.upper(), n.upper(), ("run", replace(FMB_HEADLINE, weighting=WEIGHTING[n]))) for n in "abc")
    spec = TableSpec("tiny", "0", "tiny", cols, rows, marks=marks)
    pub = PublishedTable(("fmb/MI", "fmb/dE"), {"A": {"fmb/MI": 4.0, "fmb/dE": 5.0}, "B": {"fmb/MI": 3.0, "fmb/dE": 4.0},
                                                "C": {"fmb/MI": 2.0, "fmb/dE": 6.0}})
    runs = {n: {**FMB_HEADLINE.as_dict(), "weighting": WEIGHTING[n]} for n in "abc"}
    store = DictStore({("a", "MI"): 4.1, ("b", "MI"): 4.5, ("c", "MI"): 1.0,
                       ("a", "dE"): 3.0, ("b", "dE"): 3.0, ("c", "dE"): 9.0})
    return spec, pub, Methods(runs), store


def test_marks_follow_direction_and_ties():
    spec, pub, methods, store = _tiny()
    t = build_table(spec, methods, store, 0.05, published=pub)
    mi = [r.cells[0] for r in t.rows]
    assert [c.mark for c in mi] == ["second", "best", None]
    assert [c.mark_published for c in mi] == ["best", "second", None]
    de = [r.cells[1] for r in t.rows]  # lower is better; the tie at 3.0 is best twice, 9.0 is second
    assert [c.mark for c in de] == ["best", "best", "second"]
    assert [c.mark_published for c in de] == ["second", "best", None]


def test_best_only_tables_mark_no_second():
    spec, pub, methods, store = _tiny(marks=("best",))
    t = build_table(spec, methods, store, 0.05, published=pub)
    assert [r.cells[0].mark for r in t.rows] == [None, "best", None]


def test_tolerance_and_scorecard():
    spec, pub, methods, store = _tiny()
    t = build_table(spec, methods, store, 0.05, published=pub)
    a = t.rows[0].cells[0]
    assert a.diff == pytest.approx(0.1) and a.within(0.05) is True and a.within(0.01) is False
    assert Cell(value=1.0).within(0.05) is None
    # within 5%: A/MI only (4.1 vs 4.0); the other five differ by more
    assert t.scorecard() == (1, 6)


def test_missing_metric_file_is_named(tmp_path, methods):
    with pytest.raises(FileNotFoundError, match="fusion/original-swinfusion-fmb-fmb.json"):
        build_table(TABLE3, methods, MetricStore(tmp_path), 0.05)


def test_rows_map_to_runs(metrics_dir, methods):
    t = build_table(TABLE3, methods, MetricStore(metrics_dir), 0.05)
    by_name = {r.name: r.methods for r in t.rows}
    assert by_name["GDWA (Ours)"] == ["ssvif-swinfusion-fmb"]
    assert by_name["EMMA / Original"] == ["original-emma-fmb"]
    assert by_name["w/o 2-stage"] == ["ssvif-swinfusion-fmb-onestage"]


def test_weighting_row_is_relabelled(metrics_dir, methods):
    ucw = Methods(methods.runs, methods.rules, methods.externals, weighting="ucw")
    names = [r.name for r in build_table(TABLE3, ucw, MetricStore(metrics_dir), 0.05).rows]
    assert "UCW (headline run; paper row: GDWA)" in names and "GDWA (Ours)" not in names


def test_rules_are_extra_unranked_rows(metrics_dir, methods):
    t = build_table(TABLE5, methods, MetricStore(metrics_dir), 0.05)
    rules = [r for r in t.rows if r.group == "rule"]
    assert [r.name for r in rules] == ["max", "mean", "visible", "infrared"]
    assert all(r.cells[0].value is not None and r.cells[0].mark is None for r in rules)
    # the external cddfuse fills the paper's CDDF. row instead of an extra row
    assert [r.methods for r in t.rows if r.name == "CDDF."] == [["cddfuse"]]


def test_required_files_cover_every_producer(methods):
    files = required_files(methods)
    assert "efficiency.json" in files and "detect/ssvif-swinfusion-fmb.json" in files
    assert "segment/ssvif-swinfusion-msrs-msrs.json" in files and "fusion/max-fmb.json" in files
    assert not any("msrs" in f for f in files if f.startswith("detect/"))
