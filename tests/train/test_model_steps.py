"""Every registered fusion model trains through the SSVIF step and its original framework's step."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from pipeline.models.registry import FUSION_MODELS
from pipeline.train.run import RunSettings, build_trainer
from tests.train.standin import toy_batches

PARAMS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())


def _settings(model: str, framework: str, channels: int) -> RunSettings:
    quick = PARAMS["quick"]
    run = {"framework": framework, "model": model, "dataset": "fmb", "channels": channels, "n_classes": 4,
           "lambda_color": 20, "csc": True, "two_stage": True}
    block = quick["train"] if framework == "ssvif" else quick["original"]
    return RunSettings(name="t", run=run, widths=quick["models"][model], train=block, seed=0,
                       segformer=quick["segformer"], loss=PARAMS["loss"], weightings=PARAMS["weightings"],
                       weighting="gdwa" if framework == "ssvif" else None, ssvif_lr=PARAMS["ssvif_lr"],
                       lr_scale=quick["lr_scale"])


def _changed(before, module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("model", list(FUSION_MODELS))
def test_ssvif_stage_one_and_two_steps(model):
    trainer = build_trainer(_settings(model, "ssvif", 3), device="cpu", log=lambda _: None)
    batch = toy_batches(1, batch=2, size=32)[0]
    strategy = trainer.strategy
    before = [p.detach().clone() for p in strategy.fusion.parameters()]
    assert math.isfinite(strategy.step(batch, 1, trainer.optimizer, trainer.config)["loss_fus"])
    assert _changed(before, strategy.fusion)
    strategy.begin_epoch(2, [])
    row = strategy.step(batch, 2, trainer.optimizer, trainer.config)
    assert all(math.isfinite(row[k]) for k in ("loss_fus", "loss_csc", "w_csc", "grad_norm_fus", "grad_norm_csc"))
    assert row["grad_norm_csc"] > 0  # the CSC loss reaches the fusion model (through H and through S)


@pytest.mark.parametrize("model", list(FUSION_MODELS))
def test_original_framework_step(model):
    trainer = build_trainer(_settings(model, "original", 1), device="cpu", log=lambda _: None)
    strategy = trainer.strategy
    before = [p.detach().clone() for p in strategy.fusion.parameters()]
    row = strategy.step(toy_batches(1, batch=2, size=32)[0], 1, trainer.optimizer, trainer.config)
    assert math.isfinite(row["loss_fus"]) and _changed(before, strategy.fusion)
