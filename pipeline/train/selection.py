"""Model selection: which epoch's fusion weights a run keeps, and when it stops early.

Two rules, one per framework: :class:`BestValidation` (SSVIF: the lowest validation L_fus within
the final stage, early stopping after `patience` epochs without improvement) and
:class:`LastEpoch` (the original frameworks train a fixed schedule). Their state is part of the
resume checkpoint under the keys of :data:`STATE_KEYS`.
"""
from __future__ import annotations

import abc
import copy
import math

from torch import nn

STATE_KEYS = ("best_val", "best_state", "best_epoch", "since_best", "stopped")


class Selection(abc.ABC):
    """The selected fusion state dict and its epoch; `stopped` ends training early."""

    note = ""

    def __init__(self, patience: int = 0):
        self.patience = patience
        self.best_val = math.inf
        self.best_state: dict | None = None
        self.best_epoch = 0
        self.since_best = 0
        self.stopped = False

    def update(self, row: dict, fusion: nn.Module, final_stage: bool) -> None:
        """After epoch row["epoch"] (its validation L_fus in row["loss_val"]); final_stage: the run's last stage."""
        if self.observe(row, final_stage):
            self.best_state = copy.deepcopy(fusion.state_dict())

    @abc.abstractmethod  # each rule (BestValidation, LastEpoch) decides what an epoch's row selects
    def observe(self, row: dict, final_stage: bool) -> bool:
        """Count epoch `row`; True when its weights become the selected ones (a run continuing from a shared
        stage I replays the rows with this alone: pipeline.train.trainer, Trainer.continue_from)."""

    def restart(self) -> None:
        """The final stage begins: select among its epochs only."""

    def selected(self, fusion: nn.Module, epochs_trained: int) -> tuple[dict, int]:
        """(state dict, epoch) to keep; the current weights when nothing was selected (e.g. no epoch left)."""
        if self.best_state is None:
            return copy.deepcopy(fusion.state_dict()), epochs_trained
        return self.best_state, self.best_epoch

    def state(self) -> dict:
        return {key: getattr(self, key) for key in STATE_KEYS}

    def load_state(self, state: dict) -> None:
        for key in STATE_KEYS:
            setattr(self, key, state[key])


class BestValidation(Selection):
    note = (
        "model selection: lowest mean fusion loss L_fus (Eq. 3) on the validation split (whole images, or one "
        "seeded crop of `val_crop` per image when val_crop > 0), "
        "among the epochs of the final stage (stage II when CSC is on); early stopping after `patience` "
        "epochs without improvement"
    )

    def observe(self, row: dict, final_stage: bool) -> bool:
        improved = row["loss_val"] < self.best_val
        if improved:
            self.best_val, self.best_epoch, self.since_best = row["loss_val"], row["epoch"], 0
        else:
            self.since_best += 1
        if final_stage and self.patience and self.since_best >= self.patience:
            self.stopped = True
        return improved

    def restart(self) -> None:
        self.best_val, self.best_state, self.since_best = math.inf, None, 0


class LastEpoch(Selection):
    note = "last epoch (the original frameworks train a fixed schedule)"

    def observe(self, row: dict, final_stage: bool) -> bool:
        self.best_epoch = row["epoch"]
        return True


SELECTIONS = {"val": BestValidation, "last": LastEpoch}


def create_selection(name: str, patience: int = 0) -> Selection:
    """The selection rule of TrainConfig.selection; a clear error for an unknown name."""
    if name not in SELECTIONS:
        raise ValueError(f"unknown model selection {name!r}; valid names: {', '.join(SELECTIONS)}")
    return SELECTIONS[name](patience)
