"""The numbers of one training run: what the trainer, its schedule and its selection read."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """Numbers of one training run (params `<profile>.train` / `.original` and `runs.<run>`).

    stage_one_max_epochs: stage II starts at the latest after this many epochs (0: only the
    paper's rule, see pipeline.train.schedule). selection: "val" keeps the fusion model with the
    lowest validation L_fus among the epochs of the final stage (early stopping after `patience`
    epochs without improvement, 0 = never); "last" keeps the last epoch (original frameworks).
    lr_decay, lr_warmup: the profile's learning-rate schedule over the run's steps (pipeline.train.lr_schedule).
    gradient_stats: log the task-gradient statistics of Eq. 8-9 in every stage-II step (GDWA
    computes the task gradients anyway; the other weightings then need one more backward).
    A resume checkpoint records these fields and is refused by a run whose fields differ.
    """

    epochs: int
    batch: int
    lr: float
    seed: int = 0
    channels: int = 3
    max_steps_per_epoch: int = 0
    patience: int = 0
    csc: bool = True
    two_stage: bool = True
    stage_one_max_epochs: int = 0
    selection: str = "val"
    gradient_stats: bool = True
    lr_decay: str = "constant"
    lr_warmup: float = 0.0
