"""RunSettings -> TrainConfig and the run record: the `<profile>.train.gradient_stats` switch."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.train.run import RunSettings, train_config

PARAMS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())


def _settings(**train) -> RunSettings:
    quick = PARAMS["quick"]
    return RunSettings(name="t", run=PARAMS["runs"]["ssvif-swinfusion-fmb"], widths=quick["models"]["swinfusion"],
                       train={**quick["train"], **train}, segformer=quick["segformer"], loss=PARAMS["loss"],
                       weightings=PARAMS["weightings"], weighting="fixed", ssvif_lr=PARAMS["ssvif_lr"],
                       lr_scale=quick["lr_scale"])


def test_both_profiles_log_the_gradient_statistics():
    assert PARAMS["quick"]["train"]["gradient_stats"] is True and PARAMS["paper"]["train"]["gradient_stats"] is True
    assert train_config(_settings()).gradient_stats is True


def test_gradient_stats_off_reaches_the_config_and_the_record():
    on, off = _settings(), _settings(gradient_stats=False)
    assert train_config(off).gradient_stats is False
    # on: the record of every run before the switch existed; off: recorded, and a work dir of its own
    assert "gradient_stats" not in on.record()["train"] and off.record()["train"]["gradient_stats"] is False
    assert on.digest() != off.digest()


def test_gradient_stats_must_be_a_boolean():
    with pytest.raises(ValueError, match="gradient_stats"):
        train_config(_settings(gradient_stats="false"))
