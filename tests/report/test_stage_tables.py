"""The tables stage end to end on fixture metric files: outputs, inputs(params), byte-identical reruns."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from pipeline import layout
from stages import tables as stage

from .conftest import fake_file

ROOT = Path(__file__).resolve().parents[2]
HISTORY = "epoch,stage,loss_fus,alpha_cf,w_csc\n0,1,1.0,,\n1,1,0.9,,\n2,2,0.8,0.02,0.1\n3,2,0.7,0.01,0.2\n"


def _project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    for rel in stage.inputs(params):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("history.csv"):
            path.write_text(HISTORY)
        else:
            path.write_text(json.dumps(fake_file(rel.removeprefix(f"{layout.METRICS}/"))))
    return tmp_path


def _run(project: Path, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setenv("DVC_ROOT", str(project))
    monkeypatch.chdir(project)
    args = ["--metrics", "reports/metrics", "--runs", "reports/runs", "--out", "reports/tables",
            "--headline", "reports/metrics/headline.json", "--gradient", "reports/metrics/gradient.json",
            "--readme", "reports/README.md"]
    result = CliRunner().invoke(stage.main, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    outs = sorted(project.glob("reports/tables/*")) + [project / "reports/metrics/headline.json",
                                                       project / "reports/metrics/gradient.json",
                                                       project / "reports/README.md"]
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in outs}


def test_inputs_are_cheap_and_complete():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    files = stage.inputs(params)
    assert layout.in_metrics(layout.EFFICIENCY_FILE) in files
    assert layout.history_file("ssvif-swinfusion-fmb") in files
    assert all(f.startswith((f"{layout.METRICS}/", f"{layout.RUN_REPORTS}/")) for f in files)
    assert stage.PARAMS and "runs" in stage.PARAMS


def test_stage_writes_everything_deterministically(tmp_path, monkeypatch):
    project = _project(tmp_path)
    first = _run(project, monkeypatch)
    assert len([k for k in first if k.startswith("reports/tables/")]) == 27
    second = _run(project, monkeypatch)
    assert first == second

    headline = json.loads(first["reports/metrics/headline.json"])
    assert set(headline) == {"fmb", "msrs", "m3fd"}
    assert set(headline["fmb"]) == {"mIoU", "EN", "MI", "VIF", "Qabf", "SSIM", "MSS", "dE"}
    assert set(headline["m3fd"]) == {"mAP50"}

    gradient = json.loads(first["reports/metrics/gradient.json"])
    assert gradient["alpha_cf_mean_stage2"] == 0.015 and gradient["stage2_epochs"] == 2
    assert gradient["alpha_cf_published"] == 0.0105

    readme = first["reports/README.md"].decode()
    assert "NOT THE PAPER'S" in readme  # quick + synthetic in the committed params
    assert "[md](tables/table1.md)" in readme and "(figures/paper/fig4_fusion.png)" in readme
    assert not re.search(r"20\d\d-\d\d-\d\d", readme)


def test_missing_metric_file_fails_with_its_name(tmp_path, monkeypatch):
    project = _project(tmp_path)
    (project / "reports/metrics/efficiency.json").unlink()
    monkeypatch.setenv("DVC_ROOT", str(project))
    monkeypatch.chdir(project)
    result = CliRunner().invoke(stage.main, ["--metrics", "reports/metrics", "--runs", "reports/runs", "--out", "t",
                                             "--headline", "h.json", "--gradient", "g.json", "--readme", "R.md"])
    assert result.exit_code != 0 and "efficiency.json" in str(result.exception)


def test_readme_names_the_m3fd_split_and_its_near_duplicates(tmp_path, monkeypatch):
    project = _project(tmp_path)
    split = {"dataset": "m3fd", "seed": 0, "rule": "r", "method": "grouped", "train": ["00000", "00001"],
             "val": ["00002"], "test": ["00003"],
             "near_duplicates": {"rule": "r", "groups": 3, "val_in_train": 0, "test_in_train": 0}}
    (project / "m3fd.json").write_text(json.dumps(split))
    monkeypatch.setenv("DVC_ROOT", str(project))
    monkeypatch.chdir(project)
    args = ["--metrics", "reports/metrics", "--runs", "reports/runs", "--out", "t", "--headline", "h.json",
            "--gradient", "g.json", "--readme", "R.md"]
    result = CliRunner().invoke(stage.main, args + ["--m3fd-split", "m3fd.json"])
    assert result.exit_code == 0, result.output
    line = next(x for x in (project / "R.md").read_text().splitlines() if x.startswith("- M3FD split:"))
    assert line == ("- M3FD split: `grouped` (seed 0; train/val/test 2/1/1; `m3fd_split.method` in params.yaml); "
                    "test images with a near-duplicate in train: 0 of 1 (same sequence group as a train frame; "
                    "3 groups)")
    result = CliRunner().invoke(stage.main, args + ["--m3fd-split", "missing.json"])
    assert result.exit_code == 1 and "split@m3fd" in result.output
