"""The two ways a fusion model is trained here, as strategies of one training loop.

:class:`SSVIFStrategy`: the paper's framework, L_fus in stage I and Eq. 2 (L_fus + w_csc L_csc
through segmentation head H and SegFormer S) in stage II; without CSC, stage I throughout.
:class:`OriginalStrategy`: a fusion model's own published loss (pipeline.losses.original), one
stage, no segmentation branches. The loop (pipeline.train.trainer) asks a strategy for the
modules it trains, tells it when an epoch begins and has it take each step.
"""
from __future__ import annotations

import torch
from torch import nn

from pipeline.train.config import TrainConfig
from pipeline.train.step import LossFn, fusion_step, joint_step
from pipeline.weighting.base import Weighting


class Strategy:
    """What the loop needs of a framework; by itself: fusion model F trained on loss_fn alone.

    fusion: has features/decode (pipeline.models contract). loss_fn(model, fused, ir, vis): L_fus,
    also the validation loss of model selection.
    """

    def __init__(self, fusion: nn.Module, loss_fn: LossFn):
        self.fusion, self.loss_fn = fusion, loss_fn
        self.device = torch.device("cpu")

    def check(self, config: TrainConfig) -> None:
        """Refuse a configuration this strategy cannot train."""

    def modules(self) -> dict[str, nn.Module]:
        """The trained (and checkpointed) modules, in optimiser order."""
        return {"fusion": self.fusion}

    def to(self, device: torch.device) -> "Strategy":
        for module in self.modules().values():
            module.to(device)
        self.device = device
        return self

    def begin_epoch(self, stage: int, history: list[dict]) -> None:
        """Called before each epoch with its stage and the completed epochs' rows."""

    def kept(self):
        """What model selection keeps the state dict of: F itself (an EMA run: its averaged weights)."""
        return self.fusion

    def step(self, batch: dict, stage: int, optimizer: torch.optim.Optimizer, config: TrainConfig) -> dict:
        return fusion_step(self.fusion, self.loss_fn, optimizer, batch, config.channels, self.device)


class OriginalStrategy(Strategy):
    """Fusion model F trained with its original framework's loss (one stage, no segmentation branches).

    frozen: networks the loss uses but never trains (EMMA's A_i, A_v): moved with F, not optimised or saved.
    lr_factor(epoch, step): the original's learning-rate schedule (pipeline.train.original_schedule), or None.
    ema: a WeightEMA of F updated after every step; the run then keeps the averaged weights (SwinFusion).
    """

    def __init__(self, fusion: nn.Module, loss_fn: LossFn, frozen: tuple[nn.Module, ...] = (), lr_factor=None,
                 ema: nn.Module | None = None):
        super().__init__(fusion, loss_fn)
        self.frozen, self.lr_factor, self.ema = tuple(frozen), lr_factor, ema
        self.epoch = 0

    def modules(self) -> dict[str, nn.Module]:
        return {"fusion": self.fusion, "ema": self.ema} if self.ema is not None else {"fusion": self.fusion}

    def to(self, device: torch.device) -> "Strategy":
        for module in self.frozen:
            module.to(device)
        return super().to(device)

    def check(self, config: TrainConfig) -> None:
        if config.csc:
            raise ValueError("an original framework has no CSC: train it with csc=False")

    def begin_epoch(self, stage: int, history: list[dict]) -> None:
        self.epoch = len(history)

    def kept(self):
        from pipeline.train.original_schedule import EMAView

        return EMAView(self.ema, self.fusion) if self.ema is not None else self.fusion

    def step(self, batch: dict, stage: int, optimizer: torch.optim.Optimizer, config: TrainConfig) -> dict:
        if self.lr_factor is not None:
            from pipeline.train.original_schedule import steps_taken

            lr = config.lr * self.lr_factor(self.epoch, steps_taken(optimizer) + 1)
            for group in optimizer.param_groups:
                group["lr"] = lr
        row = super().step(batch, stage, optimizer, config)
        if self.ema is not None:
            self.ema.update(self.fusion)
        return row


class SSVIFStrategy(Strategy):
    """Fusion model F with L_fus; with CSC also head H, segmentation model S and the weighting of w_csc."""

    def __init__(self, fusion: nn.Module, loss_fn: LossFn, head: nn.Module | None = None,
                 segmenter: nn.Module | None = None, weighting: Weighting | None = None):
        super().__init__(fusion, loss_fn)
        self.head, self.segmenter, self.weighting = head, segmenter, weighting

    def check(self, config: TrainConfig) -> None:
        if config.csc and (self.head is None or self.segmenter is None or self.weighting is None):
            raise ValueError("a CSC run needs a segmentation head, a segmentation model and a weighting")

    def modules(self) -> dict[str, nn.Module]:
        mods = {"fusion": self.fusion, "head": self.head, "segmenter": self.segmenter, "weighting": self.weighting}
        return {k: v for k, v in mods.items() if v is not None}

    def begin_epoch(self, stage: int, history: list[dict]) -> None:
        if stage == 2:  # the weighting sees the epoch means of the completed stage-II epochs
            rows = [r for r in history if r["stage"] == 2]
            self.weighting.begin_epoch([r["loss_fus"] for r in rows], [r["loss_csc"] for r in rows])

    def step(self, batch: dict, stage: int, optimizer: torch.optim.Optimizer, config: TrainConfig) -> dict:
        if stage == 1:
            return super().step(batch, stage, optimizer, config)
        task_gradients = config.gradient_stats or self.weighting.needs_task_gradients
        return joint_step(self.fusion, self.head, self.segmenter, self.weighting, self.loss_fn, optimizer, batch,
                          config.channels, self.device, task_gradients)
