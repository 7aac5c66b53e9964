"""The shared stage I in the DAG (issue 21): which train@ units read which stage_one@ unit, per seed."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipeline import params as _params
from pipeline.dag.units import load
from tests.stages.test_invalidation import _definitions

ROOT = Path(__file__).resolve().parents[2]
SHARED = "swinfusion-fmb-3ch-l20"
SHARING = [f"ssvif-swinfusion-fmb{s}" for s in ("", "-fixed", "-ucw", "-dwa", "-segmif", "-nocsc", "-n9")]


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


def _stage_one_deps(units: dict) -> dict[str, list[str]]:
    """{train unit: the stage_one folders it depends on}."""
    return {name: [d for d in u.deps if d.startswith("data/stage_one/")] for name, u in units.items()
            if name.startswith("train@")}


def test_the_seven_fmb_swinfusion_runs_read_one_unit_and_the_others_their_own_or_none():
    units = load(ROOT)  # the committed DAG files
    deps = _stage_one_deps(units)
    assert {n for n, d in deps.items() if d == [f"data/stage_one/{SHARED}"]} == {f"train@{r}" for r in SHARING}
    assert deps["train@ssvif-swinfusion-fmb-onestage"] == []
    assert all(d == [] for n, d in deps.items() if n.startswith("train@original-"))
    own = ["-l10", "-l30", "-1ch"]
    others = [deps[f"train@ssvif-swinfusion-fmb{s}"] for s in own] + [
        deps[f"train@ssvif-{r}"] for r in ("swinfusion-msrs", "emma-fmb", "seafusion-fmb")]
    assert all(len(d) == 1 for d in others) and len({d[0] for d in others}) == len(others)
    stage_ones = {n for n in units if n.startswith("stage_one@")}
    assert stage_ones == {f"stage_one@{d.removeprefix('data/stage_one/')}" for ds in deps.values() for d in ds}
    member = units["train@ssvif-swinfusion-fmb"]
    assert member.cmd.endswith(f" --stage-one data/stage_one/{SHARED}")
    assert units[f"stage_one@{SHARED}"].outs == [f"data/stage_one/{SHARED}"]


def test_the_unit_reads_no_member_only_setting(params):
    unit = load(ROOT)[f"stage_one@{SHARED}"]
    assert not any(p.endswith((".n_classes", ".weighting", ".csc", ".patience", ".gradient_stats")) or p == "weighting"
                   or p.startswith("runs.") and p.count(".") == 1 or p.endswith(".train") for p in unit.params)
    assert "runs.ssvif-swinfusion-fmb.lambda_color" in unit.params  # its representative: the first member
    assert "pipeline/models/swinfusion.py" in unit.deps and not any("weighting/gdwa" in d for d in unit.deps)


def test_a_non_member_train_stage_resolves_as_before():
    """A run without a shared stage I keeps the command and data deps dvc.lock recorded before the feature
    (its extra dep repeats one it has); only the code it imports may differ."""
    import yaml

    from pipeline.dag.units import RUNNER

    locked = yaml.safe_load((ROOT / "dag/train/dvc.lock").read_text())["stages"]
    units = load(ROOT)
    others = [n for n in units if n.startswith("train@") and not any(d.startswith("data/stage_one/")
                                                                     for d in units[n].deps)]
    assert "train@ssvif-swinfusion-fmb-onestage" in others and "train@original-emma-fmb" in others
    for name in others:
        assert locked[name]["cmd"] == f"{RUNNER} {units[name].cmd}", name
        data = {d["path"] for d in locked[name]["deps"] if not d["path"].endswith(".py")}
        assert data == {d for d in units[name].deps if not d.endswith(".py")}, name


def test_each_training_seed_has_its_own_unit(params, tmp_path):
    three = copy.deepcopy(params)
    three["seeds"] = [three["seed"], three["seed"] + 1, three["seed"] + 2]
    units = _definitions(three, tmp_path)
    seeds = three["seeds"][1:]
    for seed in seeds:
        assert f"stage_one@{SHARED}-s{seed}" in units
        assert units[f"stage_one@{SHARED}-s{seed}"]["outs"] == [f"data/stage_one/{SHARED}-s{seed}"]
        for run in SHARING:
            train = units[f"train@{run}-s{seed}"]
            assert [d for d in train["deps"] if d.startswith("data/stage_one/")] == [f"data/stage_one/{SHARED}-s{seed}"]
            assert train["cmd"].endswith(f"--stage-one data/stage_one/{SHARED}-s{seed}")
        assert "--stage-one" not in units[f"train@ssvif-swinfusion-fmb-onestage-s{seed}"]["cmd"]
        assert f"--unit {SHARED}-s{seed} " in units[f"stage_one@{SHARED}-s{seed}"]["cmd"]
    one = _definitions(params, tmp_path / "one")
    assert all(units[name] == unit for name, unit in one.items() if name.startswith("stage_one@"))
