"""Figures: byte-identical re-renders, and the figures stage on a tiny fixture tree."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from pipeline.report import figures as F

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ("epoch,stage,loss_fus,loss_csc,alpha_cf,w_csc\n0,1,1.0,,,\n1,1,0.9,,,\n"
           "2,2,0.8,0.5,0.02,0.1\n3,2,0.7,0.4,0.01,0.2\n")


def test_renders_are_byte_identical():
    rng = np.random.default_rng(0)
    images = [[rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), rng.integers(0, 255, (24, 32), dtype=np.uint8)]]
    grids = [F.image_grid(images, ["r"], ["a", "b"], "t") for _ in range(2)]
    lines = [F.curves({"x": [(0, 1.0), (1, 0.5)]}, "t", "y", {"stage II": 1.0}) for _ in range(2)]
    assert grids[0] == grids[1] and lines[0] == lines[1]
    assert grids[0][:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in grids[0] and b"matplotlib" not in lines[0]


def test_colorize_uses_palette():
    out = F.colorize(np.array([[0, 1], [255, 1]], dtype=np.uint8), [(0, 0, 0), (10, 20, 30)])
    assert out.shape == (2, 2, 3) and out[0, 1].tolist() == [10, 20, 30] and out[1, 0].tolist() == [255, 255, 255]


def test_history_helpers():
    from pipeline.report.gradient import read_history

    rows = read_history(HISTORY)
    assert F.stage_switch(rows) == 2.0
    assert F.history_series(rows, "w_csc") == [(2.0, 0.1), (3.0, 0.2)]


@pytest.mark.slow
def test_stage_on_fixture_tree(tmp_path, monkeypatch):
    from pipeline.data.io import write_png
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS
    from stages import figures as stage

    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    rgb = np.full((32, 48, 3), 120, dtype=np.uint8)
    for d in ("fmb", "msrs"):
        (tmp_path / "data/splits").mkdir(parents=True, exist_ok=True)
        (tmp_path / f"data/splits/{d}.json").write_text(json.dumps({"test": ["00001"], "train": [], "val": []}))
        paths = pair_paths(DATASETS[d], tmp_path / f"data/raw/{d}", "00001", "test")
        write_png(paths["ir"], rgb[..., 0])
        write_png(paths["vis"], rgb)
        write_png(paths["label"], np.ones((32, 48), dtype=np.uint8))
    for rel in stage.inputs(params):
        path = tmp_path / rel
        if rel.endswith("history.csv"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HISTORY)
        elif "/figures/" in rel or "/fused/" in rel:
            write_png(path / "00001.png", rgb)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    outs = []
    for _ in range(2):
        result = CliRunner().invoke(stage.main, ["--data", "data", "--reports", "reports", "--out", "out"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        outs.append({p.name: p.read_bytes() for p in sorted((tmp_path / "out").iterdir())})
    from pipeline.report.figure_list import FIGURES

    assert sorted(outs[0]) == sorted(name for name, _ in FIGURES)
    assert outs[0] == outs[1]


def test_figures_show_originals_externals_then_the_headline_run(methods):
    from pipeline import layout
    from pipeline.report import paper_figures as P

    originals = [f"original-{m}-fmb" for m in ("swinfusion", "emma", "seafusion")]  # the paper's order
    assert P.shown_methods(methods, "fmb") == originals + ["cddfuse", "ssvif-swinfusion-fmb"]
    assert P.shown_methods(methods, "m3fd") == originals + ["cddfuse", "ssvif-swinfusion-fmb"]
    files = P.inputs(methods)
    assert layout.fused_dir("cddfuse", "fmb", ("cddfuse",)) in files and "data/external/cddfuse/fmb" in files
    assert layout.predictions_dir("detect", "cddfuse") in files
    assert layout.history_file("ssvif-swinfusion-fmb-ucw") in files and layout.split_file("msrs") in files
