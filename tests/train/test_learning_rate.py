"""One learning-rate rule for every framework: its paper's rate x `<profile>.lr_scale`, at most `<profile>.lr_max`
(params.yaml).

Resolved as stages.train resolves it (`settings`), for every registered fusion model in every
framework, under both profiles; a bad lr_scale or lr_max stops the stage with an error naming the key; only
the train units declare the rule's params (nothing else is invalidated by a change of it).
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from pipeline.losses.original import ORIGINAL_FRAMEWORKS
from pipeline.models.names import FRAMEWORKS, FUSION_MODEL_NAMES
from pipeline.params import ParamsError
from pipeline.train.run import train_config
from stages.train import settings

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def _params(framework: str, model: str, profile: str) -> dict:
    """params.yaml under `profile`, with a run `t` of `model` trained in `framework`."""
    params = copy.deepcopy(PARAMS)
    params["profile"] = profile
    params["runs"]["t"] = {"framework": framework, "model": model, "dataset": "fmb", "channels": 1, "n_classes": 15,
                           "lambda_color": 20, "csc": True, "two_stage": True, "weighting": "gdwa"}
    return params


def _paper_rate(framework: str, model: str) -> float:
    return PARAMS["ssvif_lr"] if framework == "ssvif" else ORIGINAL_FRAMEWORKS[model].lr


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("model", FUSION_MODEL_NAMES)
def test_every_framework_trains_at_its_paper_rate_times_lr_scale_at_most_lr_max(framework, model):
    paper = settings(_params(framework, model, "paper"), "t")
    quick = settings(_params(framework, model, "quick"), "t")
    assert PARAMS["paper"]["lr_scale"] == 1 and PARAMS["quick"]["lr_scale"] == 10
    assert PARAMS["paper"]["lr_max"] is None and PARAMS["quick"]["lr_max"] == 1e-3
    assert paper.lr == _paper_rate(framework, model) == paper.paper_lr  # the paper profile: no cap
    assert quick.lr == min(paper.lr * PARAMS["quick"]["lr_scale"], PARAMS["quick"]["lr_max"])
    assert train_config(quick).lr == quick.lr and train_config(paper).lr == paper.lr  # what Adam is given


def test_the_cap_binds_only_original_seafusion_and_its_record_says_so():
    """1e-3 is the highest paper rate (SeAFusion's own), so 10x binds for original SeAFusion alone."""
    capped = {run for run in PARAMS["runs"] if settings(PARAMS, run).capped}
    assert capped == {run for run, spec in PARAMS["runs"].items()
                      if spec["framework"] == "original" and spec["model"] == "seafusion"}
    rec = settings(PARAMS, "original-seafusion-fmb").record()
    assert rec["lr"] == 1e-3 and rec["lr_max"] == 1e-3 and rec["lr_scale"] == 10
    assert "lr_max" not in settings(PARAMS, "original-emma-fmb").record()  # uncapped: the record as before
    assert "lr_max" not in settings({**PARAMS, "profile": "paper"}, "original-seafusion-fmb").record()


@pytest.mark.parametrize("bad", [0, -1e-3, "1e-3", True, math.nan])
def test_a_bad_lr_max_is_an_error_naming_the_key(bad):
    params = copy.deepcopy(PARAMS)
    params["quick"]["lr_max"] = bad
    with pytest.raises(ParamsError, match=r"quick\.lr_max=.*positive number"):
        settings(params, "original-seafusion-fmb")
    del params["quick"]["lr_max"]
    with pytest.raises(ParamsError, match=r"quick\.lr_max"):
        settings(params, "ssvif-swinfusion-fmb")


def test_quick_ssvif_keeps_todays_rate():
    """1e-4 x 10 is exactly the 1e-3 quick SSVIF runs always trained at: their bytes do not change."""
    s = settings(PARAMS, "ssvif-swinfusion-fmb")
    assert s.lr == 1.0e-3 and s.record()["train"]["lr"] == 1.0e-3
    assert "lr_scale" not in s.record() and "ssvif_lr" not in s.record()  # the record every SSVIF run wrote before


def test_original_record_names_the_rate_and_the_scale():
    rec = settings(PARAMS, "original-swinfusion-fmb").record()
    assert rec["lr"] == pytest.approx(2e-4) and rec["lr_scale"] == 10
    paper = settings({**PARAMS, "profile": "paper"}, "original-swinfusion-fmb").record()
    assert paper["lr"] == 2e-5 and "lr_scale" not in paper  # 1: the record paper-profile retrains always wrote


@pytest.mark.parametrize("bad", [0, -1, "10", True, None, math.nan, math.inf])
@pytest.mark.parametrize("run", ["ssvif-swinfusion-fmb", "original-emma-fmb"])
def test_a_bad_lr_scale_is_an_error_naming_the_key(bad, run):
    params = copy.deepcopy(PARAMS)
    params["quick"]["lr_scale"] = bad
    with pytest.raises(ParamsError, match=r"quick\.lr_scale=.*positive number"):
        settings(params, run)


def test_a_missing_lr_scale_or_ssvif_lr_is_named():
    params = copy.deepcopy(PARAMS)
    del params["quick"]["lr_scale"]
    with pytest.raises(ParamsError, match=r"quick\.lr_scale"):
        settings(params, "original-seafusion-fmb")
    params = copy.deepcopy(PARAMS)
    params["ssvif_lr"] = -1e-4
    with pytest.raises(ParamsError, match=r"ssvif_lr=-0\.0001.*positive number"):
        settings(params, "ssvif-swinfusion-fmb")


def test_a_leftover_train_lr_is_refused_not_ignored():
    params = copy.deepcopy(PARAMS)
    params["quick"]["train"]["lr"] = 3e-3  # e.g. `dvc exp run -S quick.train.lr=3e-3` from before the rule
    with pytest.raises(ParamsError, match=r"quick\.train\.lr is not read"):
        settings(params, "ssvif-swinfusion-fmb")


def test_only_the_train_units_declare_the_rule(tmp_path):
    """DVC params as DVC resolves them: lr_scale and lr_max in every train and shared stage-I unit and nowhere else; ssvif_lr
    in SSVIF's (a stage_one@ unit trains SSVIF's stage I)."""
    from pipeline.dag import files as dag
    from pipeline.dag import units
    from pipeline.params import validate

    params = validate(copy.deepcopy(PARAMS))
    for path, text in dag.render(params).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    resolved = units.load(tmp_path, params)
    scaled = {name for name, unit in resolved.items() if "quick.lr_scale" in unit.params}
    capped = {name for name, unit in resolved.items() if "quick.lr_max" in unit.params}
    with_ssvif_lr = {name for name, unit in resolved.items() if "ssvif_lr" in unit.params}
    train = {name for name in resolved if name.startswith("train@")}
    stage_one = {name for name in resolved if name.startswith("stage_one@")}
    assert train and stage_one and scaled == capped == train | stage_one
    assert with_ssvif_lr == stage_one | {f"train@{run}" for run, spec in params["runs"].items()
                                         if spec["framework"] == "ssvif"}
