"""Each original's learning-rate schedule and SwinFusion's EMA of the weights (params `<profile>.original_schedule`).

Read from the originals' training code:
- SwinFusion (Linfeng-Tang/SwinFusion@7fb403d options/swinir/train_swinfusion_vif.json, models/model_plain.py,
  main_train_swinfusion.py): Adam 2e-5, MultiStepLR x0.5 at iterations 250k, 400k, 450k, 475k and 500k, stepped
  before every iteration; E_decay 0.999: netE starts as a copy of netG and after every step
  E <- 0.999 E + 0.001 G over the parameters (KAIR's update_E); test_swinfusion.py fuses with <iter>_E.pth.
- SeAFusion (Linfeng-Tang/SeAFusion@31e6a50 train.py): lr of epoch e (from 0) = 1e-3 * 0.75 ** (e - 1).
- EMMA (Zhaozixiang1228/MMIF-EMMA@11c4fc3 train_Fusion.py): StepLR(step_size=20, gamma=0.5) per epoch.
"""
from __future__ import annotations

import torch
from torch import nn

SWINFUSION_MILESTONES = (250_000, 400_000, 450_000, 475_000, 500_000)
EMA_DECAY = 0.999
EMA_MODELS = ("swinfusion",)  # the originals whose released weights are an EMA


def lr_factor(model: str, epoch: int, step: int) -> float:
    """lr / the original's base lr in 0-based `epoch` at 1-based global `step` (the step about to be taken)."""
    if model == "swinfusion":
        return 0.5 ** sum(step >= m for m in SWINFUSION_MILESTONES)
    if model == "seafusion":
        return 0.75 ** (epoch - 1)  # upstream's (epo - 1): the first epoch runs at lr / 0.75
    if model == "emma":
        return 0.5 ** (epoch // 20)
    raise KeyError(f"no learning-rate schedule for {model!r}")


def check_schedule(block: dict) -> dict:
    """`<profile>.original_schedule`: {lr_schedule: bool, ema: bool}; a missing block is both off."""
    unknown = set(block) - {"lr_schedule", "ema"}
    if unknown:
        raise ValueError(f"original_schedule: unknown settings {sorted(unknown)}; valid: lr_schedule, ema")
    for key in ("lr_schedule", "ema"):
        if not isinstance(block.get(key, False), bool):
            raise ValueError(f"original_schedule.{key}={block[key]!r}: it must be true or false")
    return {"lr_schedule": block.get("lr_schedule", False), "ema": block.get("ema", False)}


def _key(name: str) -> str:
    return name.replace(".", "__")  # buffer names cannot hold dots


class WeightEMA(nn.Module):
    """EMA of a model's parameters, held as buffers: saved in the resume checkpoint, never optimised."""

    def __init__(self, model: nn.Module, decay: float = EMA_DECAY):
        super().__init__()
        self.decay = decay
        for name, p in model.named_parameters():  # starts as a copy (update_E(0))
            self.register_buffer(_key(name), p.detach().clone())

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, p in model.named_parameters():
            getattr(self, _key(name)).mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)

    def averaged(self, model: nn.Module) -> dict:
        """model's state dict with the averaged parameters (buffers such as attention masks from the model)."""
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for name, _ in model.named_parameters():
            state[name] = getattr(self, _key(name)).detach().clone()
        return state


class EMAView:
    """What model selection keeps for an EMA run: ``state_dict()`` gives the averaged weights."""

    def __init__(self, ema: WeightEMA, model: nn.Module):
        self.ema, self.model = ema, model

    def state_dict(self) -> dict:
        return self.ema.averaged(self.model)


def steps_taken(optimizer: torch.optim.Optimizer) -> int:
    """Steps Adam has taken: its per-parameter "step" (kept in the resume checkpoint, so a resumed run counts on)."""
    counts = [int(s["step"]) for s in optimizer.state.values() if "step" in s]
    return max(counts, default=0)
