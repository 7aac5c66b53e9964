"""benchmarks/paper_scale.py: the GPU-hours arithmetic (the measurements are covered by tests/models)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from pipeline.dag.files import committed_stages

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ps():
    spec = importlib.util.spec_from_file_location("paper_scale", ROOT / "benchmarks" / "paper_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_hours_from_gpu_md_and_cpu_ratios(ps):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    dag = committed_stages(ROOT)  # dvc.yaml and dag/*/dvc.yaml
    names = ps.units(params, 4)
    cpu = {name: 2.0 for name in names} | {"train_ssvif_stage2": 3.0, "train_ssvif_stage2_no_ckpt": 2.0}
    results = {name: {"checkpointing": names[name][3], "s_per_step_cpu_scaled": cpu[name]} for name in names}
    hours = ps.gpu_hours(params, dag, results, "cpu")
    per_step = hours["gpu_s_per_step"]
    assert per_step["train_ssvif_stage2"]["s"] == pytest.approx(0.553 * 1.5, abs=1e-4)  # gpu.md x checkpointing
    assert per_step["train_ssvif_stage2_no_ckpt"]["s"] == pytest.approx(0.553)
    assert per_step["original_emma"]["s"] == pytest.approx(0.553, abs=1e-4)  # same CPU time as the stage-II step
    assert hours["total_hours"] == pytest.approx(sum(r["hours"] for r in hours["stages"]), abs=0.06)
    assert len(hours["runs"]) == len(params["runs"])
    segment = next(r for r in hours["stages"] if r["stage"].startswith("segment"))
    assert segment["runs"] == len(dag["segment"]["foreach"])


def test_a_shared_stage_one_is_paid_once_per_unit(ps):
    """The first member of a stage-I unit pays its stage-I epochs (at the stage-I step), the others only their own."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    dag = committed_stages(ROOT)
    names = ps.units(params, 4)
    results = {name: {"checkpointing": names[name][3], "s_per_step_cpu_scaled": 2.0} for name in names}
    alone = ps.gpu_hours(params, dag, results, "cpu", stage_one_epochs=0)
    shared = ps.gpu_hours(params, dag, results, "cpu", stage_one_epochs=10)
    steps = {r["run"]: r["steps"] for r in shared["runs"]}
    per_epoch = steps["ssvif-swinfusion-fmb"] // params["paper"]["train"]["epochs"]
    assert steps["ssvif-swinfusion-fmb-fixed"] == steps["ssvif-swinfusion-fmb"] - 10 * per_epoch  # the unit's member
    assert steps["ssvif-swinfusion-fmb-l10"] == steps["ssvif-swinfusion-fmb"]  # a unit of its own pays its stage I
    assert steps["ssvif-swinfusion-fmb-onestage"] == steps["ssvif-swinfusion-fmb"]  # no stage I: nothing shared
    assert {r["run"]: r["steps"] for r in alone["runs"]}["ssvif-swinfusion-fmb-fixed"] == steps["ssvif-swinfusion-fmb"]
    assert shared["total_hours"] < alone["total_hours"]
