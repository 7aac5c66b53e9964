"""The originals' learning-rate schedules and SwinFusion's EMA of the weights (params <profile>.original_schedule)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from pipeline.train.config import TrainConfig
from pipeline.train.original_schedule import WeightEMA, check_schedule, lr_factor
from pipeline.train.run import RunSettings
from pipeline.train.strategies import OriginalStrategy
from pipeline.train.trainer import Trainer
from tests.train.standin import StandInFusion, toy_batches

PARAMS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())


def test_each_originals_schedule():
    # SwinFusion: MultiStepLR x0.5 at iterations 250k, 400k, ... (the step about to be taken)
    assert [lr_factor("swinfusion", 0, s) for s in (1, 249_999, 250_000, 400_000, 500_000)] == [1, 1, 0.5, 0.25, 0.5 ** 5]
    # SeAFusion: 1e-3 * 0.75 ** (epoch - 1), epochs from 0
    assert lr_factor("seafusion", 0, 1) == pytest.approx(1 / 0.75) and lr_factor("seafusion", 1, 9) == 1
    assert lr_factor("seafusion", 3, 1) == pytest.approx(0.75 ** 2)
    # EMMA: StepLR(step_size=20, gamma=0.5) per epoch
    assert [lr_factor("emma", e, 1) for e in (0, 19, 20, 39, 40)] == [1, 1, 0.5, 0.5, 0.25]


def test_ema_is_kair_update_e():
    model = torch.nn.Linear(2, 1)
    start = model.weight.detach().clone()
    ema = WeightEMA(model)
    assert torch.equal(ema.averaged(model)["weight"], start)  # starts as a copy
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.averaged(model)["weight"], 0.999 * start + 0.001 * (start + 1.0))
    assert not list(ema.parameters())  # buffers only: never in the optimiser


def _loss(_model, fused, ir, vis):
    return (fused - torch.maximum(ir, vis)).abs().mean()


def _trainer(lr_factor=None, ema=False, epochs=3):
    torch.manual_seed(0)
    model = StandInFusion(1)
    strategy = OriginalStrategy(model, _loss, lr_factor=lr_factor, ema=WeightEMA(model) if ema else None)
    return Trainer(TrainConfig(epochs=epochs, batch=2, lr=1e-3, channels=1, csc=False, two_stage=False,
                               selection="last"), strategy, device="cpu", log=lambda line: None)


def _fit(trainer, work_dir=None, on_epoch_end=None):
    return trainer.fit(lambda e: toy_batches(2, seed=e), lambda: toy_batches(1, seed=99), work_dir, on_epoch_end)


def test_the_lr_follows_the_epoch_and_the_global_step():
    seen = []
    trainer = _trainer(lambda epoch, step: seen.append((epoch, step)) or 0.5 ** step)
    _fit(trainer)
    assert seen == [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6)]
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5 ** 6)


def test_an_ema_run_keeps_the_averaged_weights_and_resumes_bit_identically(tmp_path):
    plain, averaged = _fit(_trainer()), _fit(_trainer(ema=True))
    assert not torch.equal(plain["state_dict"]["out.weight"], averaged["state_dict"]["out.weight"])
    assert plain["history"] == averaged["history"]  # same training; only what is kept differs

    class Interrupt(Exception):
        pass

    def stop(epoch):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        _fit(_trainer(lambda e, s: 0.9 ** s, ema=True), tmp_path, stop)
    resumed = _fit(_trainer(lambda e, s: 0.9 ** s, ema=True), tmp_path)
    full = _fit(_trainer(lambda e, s: 0.9 ** s, ema=True))
    for key, value in full["state_dict"].items():
        assert torch.equal(resumed["state_dict"][key], value), key


def _settings(model: str, schedule: dict) -> RunSettings:
    quick = PARAMS["quick"]
    return RunSettings(name=f"original-{model}-fmb", run=PARAMS["runs"][f"original-{model}-fmb"],
                       widths=quick["models"][model], train=quick["original"], schedule=schedule)


@pytest.mark.parametrize("model", ["swinfusion", "seafusion", "emma"])
def test_schedule_off_keeps_the_record_and_on_says_what_still_differs(model):
    off, on = _settings(model, {"lr_schedule": False, "ema": False}), _settings(model, {"lr_schedule": True, "ema": True})
    assert off.record() == _settings(model, {}).record() and off.digest() == _settings(model, {}).digest()
    assert "still differs" in on.record()["original_variant"] and on.digest() != off.digest()
    assert on.record()["original_schedule"] == {"lr_schedule": True, "ema": model == "swinfusion"}


def test_quick_keeps_the_schedules_off_and_paper_turns_them_on():
    assert check_schedule(PARAMS["quick"]["original_schedule"]) == {"lr_schedule": False, "ema": False}
    assert check_schedule(PARAMS["paper"]["original_schedule"]) == {"lr_schedule": True, "ema": True}
    with pytest.raises(ValueError, match="true or false"):
        check_schedule({"ema": "yes"})
