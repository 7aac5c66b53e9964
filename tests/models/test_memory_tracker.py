"""The live-tensor tracker over training steps: saved tensors counted, fake runs = real runs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from pipeline.models.complexity import LiveTensorBytes, fake_modules, step_peak_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_saved_output_counts_until_backward():
    # y = exp(x) is saved (as a C++ copy of the tensor) by the second exp: its 16 bytes stay live
    # after the Python tensor y is gone, until the backward pass frees the graph.
    x = torch.rand(4, requires_grad=True)
    with LiveTensorBytes([x]) as mode:
        y = x.exp()
        z = y.exp().sum()
        del y
        assert mode.current == 16 + 16 + 16 + 4  # x, y (saved), exp(y) (saved), z
        z.backward()
        del z
        after = mode.current
    assert after == 16 + 16  # x and its gradient


def test_held_tensors_leave_the_count_when_they_die():
    a = torch.zeros(8)
    with LiveTensorBytes([a]) as mode:
        assert mode.current == 32
        del a
        assert mode.current == 0


def _trainer(crop, batch, checkpointing):
    from pipeline.models.checkpointing import set_checkpointing
    from pipeline.train.run import RunSettings, build_trainer

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    p = params["quick"]
    run = {"framework": "ssvif", "model": "swinfusion", "dataset": "fmb", "channels": 3, "n_classes": 15,
           "lambda_color": 20, "csc": True, "two_stage": False}
    s = RunSettings(name="t", run=run, widths=p["models"]["swinfusion"], train={**p["train"], "crop": crop, "batch": batch},
                    segformer=p["segformer"], loss=params["loss"], weightings=params["weightings"], weighting="gdwa",
                    ssvif_lr=params["ssvif_lr"], lr_scale=p["lr_scale"])
    trainer = build_trainer(s, device="cpu", log=lambda _: None)
    set_checkpointing(trainer.strategy.fusion, checkpointing)
    trainer.strategy.begin_epoch(2, [])
    return trainer


def stage_two_step(trainer, batch: dict) -> dict:
    """One stage-II step of the trainer's strategy (GDWA: two task-gradient norms)."""
    return trainer.strategy.step(batch, 2, trainer.optimizer, trainer.config)


def _peak(fake: bool, checkpointing: bool, crop=32, batch=2) -> int:
    from torch._subclasses.fake_tensor import FakeTensorMode

    torch.manual_seed(0)
    trainer = _trainer(crop, batch, checkpointing)
    g = torch.Generator().manual_seed(0)
    batch_ = {"ir": torch.rand(batch, 1, crop, crop, generator=g), "vis": torch.rand(batch, 3, crop, crop, generator=g)}
    mode = None
    if fake:
        mode = FakeTensorMode()
        modules = list(trainer.strategy.modules().values())
        memo = fake_modules(mode, modules)
        for group in trainer.optimizer.param_groups:
            group["params"] = [memo[id(p)] for p in group["params"]]
        batch_ = {k: mode.from_tensor(v) for k, v in batch_.items()}
    held = [t for m in trainer.strategy.modules().values() for t in [*m.parameters(), *m.buffers()]] + list(batch_.values())
    return step_peak_bytes(lambda: stage_two_step(trainer, batch_), held, steps=2, fake_mode=mode)


@pytest.mark.parametrize("checkpointing", [False, True])
def test_fake_stage_two_step_counts_exactly_what_a_real_one_does(checkpointing):
    real = _peak(False, checkpointing)
    fake = _peak(True, checkpointing)
    assert real == fake
    assert real > 0
