"""Table rows find their run by its settings: rename keeps the row, remove prints "not run", duplicates fail."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline import layout
from pipeline.report.build import NOT_RUN, build_table
from pipeline.report.render_csv import render_csv
from pipeline.report.render_md import render_md
from pipeline.report.render_tex import render_tex
from pipeline.report.run_match import FMB_HEADLINE, find_run, run_settings, weighting_runs
from pipeline.report.sources import metric_file
from pipeline.report.spec import TABLE3, TABLES
from stages import tables as stage

from .conftest import fake_file
from .test_stage_tables import HISTORY

ROOT = Path(__file__).resolve().parents[2]
UCW = "ssvif-swinfusion-fmb-ucw"


@pytest.fixture()
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def _ucw_files(name: str) -> set[str]:
    return {layout.in_metrics(metric_file(kind, name, "fmb")) for kind in ("fusion", "segment")}


def _row(table, name):
    return next(r for r in table.rows if r.name == name)


class FakeStore:
    def value(self, rel, method, metric):
        data = fake_file(rel)
        return data[metric] if "/" not in metric else data[metric.split("/")[0]][metric.split("/")[1]]


def test_every_settings_row_has_one_committed_run(params):
    """With the committed params every ("run", settings) row is filled, by the run named as before."""
    methods = stage._methods(params)
    rows = [r for spec in TABLES for r in spec.rows if r.source and r.source[0] == "run"]
    assert len(rows) == 12
    names = {r.name: methods.resolve(r.source, "fmb") for r in rows}
    assert names["UCW"] == UCW and names["w/o L_csc"] == "ssvif-swinfusion-fmb-nocsc"
    assert names["EMMA / SSVIF"] == "ssvif-emma-fmb" and names["single-channel"] == "ssvif-swinfusion-fmb-1ch"
    assert len(set(names.values())) == 12


def test_renamed_run_still_fills_its_row_and_is_a_tables_dependency(params):
    before = stage.inputs(params)
    params["runs"] = {("my-ucw" if n == UCW else n): r for n, r in params["runs"].items()}
    after = stage.inputs(params)
    assert _ucw_files("my-ucw") <= set(after) and not _ucw_files(UCW) & set(after)
    assert sorted(f.replace("my-ucw", UCW) for f in after) == before
    table = build_table(TABLE3, stage._methods(params), FakeStore(), 0.05)
    row = _row(table, "UCW")
    assert row.methods == ["my-ucw"] and row.missing is None
    assert all(isinstance(c.value, float) for c in row.cells)


def test_removed_run_prints_not_run_everywhere(params):
    removed = params["runs"].pop(UCW)
    assert not _ucw_files(UCW) & set(stage.inputs(params))
    table = build_table(TABLE3, stage._methods(params), FakeStore(), 0.05)
    row = _row(table, "UCW")
    assert [c.value for c in row.cells] == [NOT_RUN] * len(TABLE3.columns) and row.methods == []
    assert row.missing is not None and table.missing_rows() == [("UCW", row.missing)]
    assert table.scorecard()[1] == 5 * (len(TABLE3.rows) - 1)  # the row's five cells are no longer compared
    md = next(line for line in render_md(table).splitlines() if line.startswith("| ii | UCW |"))
    assert md.count("not run / ") == 5
    csv_row = next(line for line in render_csv(table).splitlines() if line.startswith("ii,UCW,"))
    assert csv_row.count(",not run,") == 5
    tex = next(line for line in render_tex(table).splitlines() if line.startswith("ii & UCW &"))
    assert tex.count("not run {\\scriptsize") == 5
    # The README's snippet is the removed run's entry.
    entry = yaml.safe_load(row.missing.params_snippet())["runs"]
    assert entry == {UCW: removed}
    # Other rows are untouched, headline relabelling included.
    assert _row(table, "DWA").methods == ["ssvif-swinfusion-fmb-dwa"]


def test_two_runs_with_one_rows_settings_is_an_error_naming_both(params):
    params["runs"]["ucw-again"] = copy.deepcopy(params["runs"][UCW])
    with pytest.raises(ValueError) as err:
        stage.inputs(params)
    message = str(err.value)
    assert f"'{UCW}'" in message and "'ucw-again'" in message and "Table III row 'UCW'" in message


def test_headline_weighting_changes_only_relabel_the_gdwa_row(params):
    """`-S weighting=ucw`: the headline run is "Ours" (relabelled), the UCW row keeps its own run."""
    params["weighting"] = "ucw"
    table = build_table(TABLE3, stage._methods(params), FakeStore(), 0.05)
    assert _row(table, "UCW").methods == [UCW]
    assert _row(table, "UCW (headline run; paper row: GDWA)").methods == ["ssvif-swinfusion-fmb"]
    assert run_settings(params["runs"]["ssvif-swinfusion-fmb"], "ucw")["weighting"] == "ucw"
    # Headline runs never fill a settings row, even when their settings are the row's.
    assert find_run({"h": {**params["runs"]["ssvif-swinfusion-fmb"]}}, FMB_HEADLINE, "gdwa") is None


def test_weighting_runs_by_settings(params):
    expected = ["ssvif-swinfusion-fmb"] + [f"ssvif-swinfusion-fmb-{w}" for w in ("fixed", "ucw", "dwa", "segmif")]
    assert weighting_runs(params["runs"]) == expected
    params["runs"] = {("my-ucw" if n == UCW else n): r for n, r in params["runs"].items()}
    assert "my-ucw" in weighting_runs(params["runs"])
    from pipeline.dag import build as dag
    from stages import figures

    plot = dag._plots(params)[1]["w_csc per weighting (FMB)"]["y"]
    assert list(plot) == [layout.history_file(r) for r in weighting_runs(params["runs"])]
    assert layout.history_file("my-ucw") in figures.inputs(params)


def test_suggested_names_are_the_committed_ones(params):
    methods = stage._methods(params)
    for spec in TABLES:
        for r in spec.rows:
            if r.source and r.source[0] == "run":
                assert r.source[1].suggested_name() == methods.resolve(r.source, "fmb")


def test_stage_readme_lists_the_missing_row(tmp_path, monkeypatch, params):
    removed = params["runs"].pop(UCW)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for rel in stage.inputs(params):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HISTORY if rel.endswith("history.csv") else
                        json.dumps(fake_file(rel.removeprefix(f"{layout.METRICS}/"))))
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(stage.main, [
        "--metrics", "reports/metrics", "--runs", "reports/runs", "--out", "reports/tables", "--headline",
        "reports/metrics/headline.json", "--gradient", "reports/metrics/gradient.json", "--readme", "reports/README.md"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    readme = (tmp_path / "reports/README.md").read_text()
    assert "### Rows not run" in readme and '- Table III, row "UCW":' in readme
    snippet = readme.split('- Table III, row "UCW":')[1].split("```yaml\n")[1].split("  ```")[0]
    assert yaml.safe_load(snippet)["runs"] == {UCW: removed}
    assert "not run" in (tmp_path / "reports/tables/table3.md").read_text()
    assert "Rows not run" not in (ROOT / "reports/README.md").read_text()
