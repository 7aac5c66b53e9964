"""The profile's learning-rate schedule (`<profile>.lr_schedule`, pipeline.train.lr_schedule): its factors, the
rates the trainer actually steps at, one schedule for every framework, and clear errors for bad settings."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch
import yaml

from pipeline.models.names import FRAMEWORKS, FUSION_MODEL_NAMES
from pipeline.train.config import TrainConfig
from pipeline.train.lr_schedule import check_lr_schedule, lr_factor
from pipeline.train.run import train_config
from pipeline.train.strategies import Strategy
from pipeline.train.trainer import Trainer
from stages.train import settings

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def test_cosine_with_warmup_factors():
    factors = [lr_factor("cosine", 0.1, step, 20) for step in range(20)]
    assert factors[:2] == [0.5, 1.0]  # ceil(0.1 * 20) = 2 warm-up steps, the first at half the rate
    assert all(a >= b for a, b in zip(factors[1:], factors[2:]))  # then never rises
    assert factors[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 17 / 18)))
    assert 0 < factors[-1] < 0.01  # close to 0 at the last step, never 0
    assert [lr_factor("constant", 0.0, s, 20) for s in range(20)] == [1.0] * 20


@pytest.mark.parametrize("block, word", [({"decay": "linear"}, "decay"), ({"warmup": 1.5}, "warmup"),
                                         ({"warmup": True}, "warmup"), ({"steps": 3}, "unknown")])
def test_bad_schedule_named(block, word):
    with pytest.raises(ValueError, match=word):
        check_lr_schedule(block)


class _Recorder(torch.nn.Module):
    """A one-parameter 'fusion model' whose steps record the learning rate they were taken at."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))


class _RecordingStrategy(Strategy):
    def __init__(self):
        super().__init__(_Recorder(), None)
        self.rates: list[float] = []

    def step(self, batch, stage, optimizer, config):
        self.rates.append(optimizer.param_groups[0]["lr"])
        return {"loss_fus": 1.0, "loss_total": 1.0}


@pytest.mark.parametrize("decay, warmup", [("cosine", 0.25), ("constant", 0.0)])
def test_trainer_steps_at_the_schedule(decay, warmup):
    config = TrainConfig(epochs=3, batch=1, lr=0.01, csc=False, selection="last", lr_decay=decay, lr_warmup=warmup)
    strategy = _RecordingStrategy()
    trainer = Trainer(config, strategy, device="cpu", log=lambda line: None)
    for epoch in range(3):
        trainer.train_epoch(epoch, [{}] * 4)
    assert strategy.rates == pytest.approx([0.01 * lr_factor(decay, warmup, s, 12) for s in range(12)])
    if decay == "cosine":
        assert strategy.rates[0] < strategy.rates[3] and strategy.rates[-1] < 0.001


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("model", FUSION_MODEL_NAMES)
def test_every_framework_takes_the_profile_schedule(framework, model):
    params = copy.deepcopy(PARAMS)
    params["quick"]["lr_schedule"] = {"decay": "cosine", "warmup": 0.05}
    params["runs"]["t"] = {"framework": framework, "model": model, "dataset": "fmb", "channels": 1, "n_classes": 15,
                           "lambda_color": 20, "csc": True, "two_stage": True, "weighting": "gdwa"}
    config = train_config(settings(params, "t"))
    assert (config.lr_decay, config.lr_warmup) == ("cosine", 0.05)


def test_an_original_never_takes_two_schedules():
    params = copy.deepcopy(PARAMS)
    params["quick"]["lr_schedule"] = {"decay": "cosine", "warmup": 0.0}
    params["quick"]["original_schedule"] = {"lr_schedule": True, "ema": False}
    with pytest.raises(ValueError, match="both on"):
        train_config(settings(params, "original-seafusion-fmb"))
