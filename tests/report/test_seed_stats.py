"""Tables over two seeds: mean ± std in md/csv/tex, the README's spread rule; one seed unchanged."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from pipeline import layout
from pipeline.report.build import Cell
from pipeline.report.format import number
from pipeline.report.seed_stats import SeedStore, SeedValue, seeded_file, within_spread
from stages import tables as stage

from .conftest import fake_file
from .test_stage_tables import HISTORY
from .test_stage_tables import _run as run_tables_stage

ROOT = Path(__file__).resolve().parents[2]


def test_seed_value_is_the_mean_with_sample_std():
    v = SeedValue([60.0, 62.0], [0, 1])
    assert float(v) == 61.0 and v.std == pytest.approx(2 ** 0.5) and v.values == (60.0, 62.0)
    assert number(v, 2) == "61.00 ± 1.41" and number(v, 1, pm="$\\pm$") == "61.0 $\\pm$ 1.4"
    assert number(61.0, 2) == "61.00"


def test_spread_rule_replaces_the_tolerance_for_several_seeds():
    spread = SeedValue([60.0, 62.0], [0, 1])
    assert within_spread(spread, 61.7) and within_spread(spread, 60.0) and within_spread(spread, 62.0)
    assert Cell(value=spread, published=61.7).within(0.0) is True
    # 62.5 is within 5 % of the mean 61 but outside the seeds' min..max: not reproduced.
    assert Cell(value=spread, published=62.5).within(0.05) is False
    assert Cell(value=spread, published=None).within(0.05) is None
    # One value (one seed, or an unseeded producer) keeps the tolerance rule.
    assert Cell(value=61.0, published=62.5).within(0.05) is True
    assert Cell(value=SeedValue([61.0], [0]), published=62.5).within(0.05) is True


def test_seeded_files_and_store(tmp_path):
    assert seeded_file("segment/max-fmb.json", "max", 1) == "segment/max-s1-fmb.json"
    assert seeded_file("detect/max.json", "max", 2) == "detect/max-s2.json"

    class Store:
        def __init__(self, data):
            self.data = data

        def value(self, rel, method, metric):
            if rel not in self.data:
                raise FileNotFoundError(rel)
            return self.data[rel]

    store = SeedStore(Store({"segment/r-fmb.json": 60.0, "segment/r-s1-fmb.json": 62.0, "fusion/max-fmb.json": 5.0}),
                      runs=["r"], seeds=[0, 1])
    assert store.value("segment/r-fmb.json", "r", "mIoU").values == (60.0, 62.0)
    assert store.value("fusion/max-fmb.json", "max", "EN") == 5.0  # a rule's fusion metrics have no seed
    with pytest.raises(FileNotFoundError, match="python -m stages.dag"):
        SeedStore(Store({"segment/r-fmb.json": 60.0}), runs=["r"], seeds=[0, 1]).value("segment/r-fmb.json", "r", "mIoU")


def _project(tmp_path: Path, seeds: list[int]) -> Path:
    text = (ROOT / "params.yaml").read_text()
    assert "seeds:\n- 0\n" in text
    (tmp_path / "params.yaml").write_text(text.replace("seeds:\n- 0\n", "seeds:\n" + "".join(f"- {s}\n" for s in seeds)))
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    for rel in stage.inputs(params):  # synthetic metric files: a different value for every seed's file
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HISTORY if rel.endswith("history.csv") else
                        json.dumps(fake_file(rel.removeprefix(f"{layout.METRICS}/"))))
    return tmp_path


def _run(project: Path, monkeypatch) -> dict[str, str]:
    return {k: v.decode() for k, v in run_tables_stage(project, monkeypatch).items()}


def test_two_seeds_print_mean_and_std(tmp_path, monkeypatch):
    out = _run(_project(tmp_path, [0, 1]), monkeypatch)
    md = out["reports/tables/table1.md"]
    assert "mean ± sample std over seeds 0, 1" in md and " ± " in md.split("| --- |")[-1]
    assert "$\\pm$" in out["reports/tables/table1.tex"] and "±" not in out["reports/tables/table1.tex"]
    rows = list(csv.DictReader(io.StringIO(out["reports/tables/table1.csv"])))
    ours = next(r for r in rows if "ssvif-swinfusion-fmb" in r["reproduced_by"].split())
    assert ours["fmb/mIoU_std"] and float(ours["fmb/mIoU_std"]) > 0
    seg0 = fake_file("segment/ssvif-swinfusion-fmb-fmb.json")["mIoU"]
    seg1 = fake_file("segment/ssvif-swinfusion-fmb-s1-fmb.json")["mIoU"]
    assert float(ours["fmb/mIoU"]) == pytest.approx((seg0 + seg1) / 2, abs=1e-6)
    readme = out["reports/README.md"]
    assert "With 2 training seeds (0, 1)" in readme and "min..max" in readme
    # A row still names one run (the seed is not a setting): no "same settings" error, no seeded name.
    assert "-s1" not in ours["reproduced_by"] and ours["reproduced_by"].split()[0] == "ssvif-swinfusion-fmb"


def test_one_seed_tables_have_no_seed_columns(tmp_path, monkeypatch):
    out = _run(_project(tmp_path, [0]), monkeypatch)
    assert "±" not in out["reports/tables/table1.md"].split("| --- |")[-1]
    assert "_std" not in out["reports/tables/table1.csv"] and "training seeds" not in out["reports/README.md"]
