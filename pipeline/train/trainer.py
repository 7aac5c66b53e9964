"""The training loop: epochs of a strategy's steps, validation, stage schedule, selection, resume.

What each part does lives beside it: one step and the Eq. 8-9 statistics in
pipeline.train.step, the stage-II rule in pipeline.train.schedule, model selection in
pipeline.train.selection, the resume checkpoint in pipeline.train.checkpoint, the SSVIF and
original frameworks in pipeline.train.strategies. Resumable: the checkpoint is written
atomically to ``work_dir/last.pt`` after every epoch and a re-run continues after the last
completed epoch. Each epoch reseeds torch from (seed, epoch), so a resumed run is
bit-identical to an uninterrupted one on CPU, and so is a run continued from a shared stage I
(pipeline.train.stage_one: :meth:`Trainer.stage_one_state`, :meth:`Trainer.continue_from`).
"""
from __future__ import annotations

import copy
import math
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import torch

from pipeline import distributed as dist
from pipeline.train.checkpoint import load_resume_state, resume_path, save_resume_state
from pipeline.train.config import TrainConfig
from pipeline.train.lr_schedule import lr_factor
from pipeline.train.progress import progress_line
from pipeline.train.schedule import StageSchedule
from pipeline.train.selection import create_selection
from pipeline.train.step import fusion_forward
from pipeline.train.strategies import Strategy


class Trainer:
    """Trains a strategy's modules with Adam; the fusion model F is what the run keeps."""

    def __init__(self, config: TrainConfig, strategy: Strategy, device: str | torch.device | None = None,
                 log: Callable[[str], None] | None = None):
        strategy.check(config)
        if dist.initialized() and config.batch % dist.world_size() != 0:
            raise ValueError(f"train.batch={config.batch} does not split over {dist.world_size()} processes: "
                             "choose a batch that the process count divides (each takes an equal share)")
        self.config = config
        self.strategy = strategy.to(torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))
        for module in strategy.modules().values():  # several processes: BatchNorm on the global batch
            if any(True for _ in module.parameters()):
                dist.sync_batchnorm(module)
        self.device = self.strategy.device
        log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.log = log if dist.is_writer() else (lambda line: None)
        params = [p for module in strategy.modules().values() for p in module.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=config.lr)
        self.selection = create_selection(config.selection, config.patience)
        self.history: list[dict] = []

    @property
    def schedule(self) -> StageSchedule:
        return StageSchedule.of(self.config)

    # ---------------------------------------------------------------- resume checkpoint
    def state(self) -> dict:
        return {
            "modules": {k: m.state_dict() for k, m in self.strategy.modules().items()},
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "stage_two": self.schedule.next_stage(self.history) == 2,  # derived; the key last.pt always had
            **self.selection.state(),
        }

    def save(self, path: Path) -> None:
        save_resume_state(path, self.config, self.state())

    def load(self, path: Path) -> None:
        state = load_resume_state(path, self.config, self.device)
        for k, m in self.strategy.modules().items():
            m.load_state_dict(state["modules"][k])
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = state["history"]
        self.selection.load_state(state)

    # ---------------------------------------------------------------- shared stage I (pipeline.train.stage_one)
    def stage_one_state(self) -> dict:
        """What a member run continues from: F's weights, the Adam state of F's parameters, the rows and the
        selection as stage I left it (before the stage-II restart: a csc-false member never restarts)."""
        fusion = self.strategy.fusion
        count = len(list(fusion.parameters()))  # F's parameters come first in the optimiser (Strategy.modules)
        adam = self.optimizer.state_dict()["state"]
        return {"fusion": fusion.state_dict(), "fusion_parameters": count,
                "optimizer": {i: s for i, s in adam.items() if i < count}, "history": self.history,
                **self.selection.state()}

    def continue_from(self, state: dict) -> bool:
        """Take `state` (:meth:`stage_one_state`) as this run's own first epochs, exactly as :meth:`fit` left them.

        The selection is replayed over the rows with this run's rules (its patience, its final stage, the
        restart at the switch), as fit would have; the kept weights come from the state. False, with nothing
        changed, when this run would have stopped early inside those epochs keeping an epoch whose weights
        the state no longer holds: it then trains alone (the same bytes, by another way).
        """
        schedule, rows = self.schedule, []
        selection = create_selection(self.config.selection, self.config.patience)
        for row in state["history"]:
            rows.append(row)
            selection.observe(row, final_stage=row["stage"] == schedule.final_stage)
            if schedule.next_stage(rows) != row["stage"]:
                selection.restart()  # as fit does at the switch: stage II selects among its epochs only
            if selection.stopped:
                break
        if selection.best_val != math.inf:  # an epoch is selected (not restarted): its weights must be the state's
            if selection.best_epoch != state["best_epoch"]:
                return False
            selection.best_state = state["best_state"]
        fusion = self.strategy.fusion
        if state["fusion_parameters"] != len(list(fusion.parameters())):
            raise ValueError(f"the stage-I state holds {state['fusion_parameters']} fusion parameters, this run's "
                             f"model has {len(list(fusion.parameters()))}: another model or widths")
        fusion.load_state_dict(state["fusion"])
        adam = self.optimizer.state_dict()
        # A copy: Adam adopts tensors of its device and dtype as they are and updates them in place.
        adam["state"] = copy.deepcopy(state["optimizer"])  # H, S and the weighting have none: no gradient in stage I
        self.optimizer.load_state_dict(adam)
        self.history, self.selection = rows, selection
        return True

    # ---------------------------------------------------------------- epochs
    @torch.no_grad()
    def validate(self, batches: Iterable[dict]) -> float:
        """Mean L_fus over the validation batches (whole images), networks in eval mode."""
        fusion = self.strategy.fusion
        fusion.eval()
        total, count = 0.0, 0
        for batch in batches:
            _, fused, ir_in, vis_in = fusion_forward(fusion, batch, self.config.channels, self.device)
            total += float(self.strategy.loss_fn(fusion, fused, ir_in, vis_in)) * fused.shape[0]
            count += fused.shape[0]
        fusion.train()
        return total / count if count else float("nan")

    def train_epoch(self, epoch: int, batches: Iterable[dict]) -> dict:
        """One epoch of steps in the schedule's stage; the row of epoch means (no validation yet)."""
        stage = self.schedule.next_stage(self.history)
        torch.manual_seed(self.config.seed * 100_003 + epoch)  # per-epoch seed: resume == uninterrupted
        for module in self.strategy.modules().values():
            module.train()
        self.strategy.begin_epoch(stage, self.history)
        steps: list[dict] = []
        per_epoch = self._steps_per_epoch(batches)
        for batch in batches:  # several processes: each steps on its share of the same global batch
            self._set_lr(epoch * per_epoch + len(steps), self.config.epochs * per_epoch)
            steps.append(self.strategy.step(dist.shard_batch(batch), stage, self.optimizer, self.config))
            if self.config.max_steps_per_epoch and len(steps) >= self.config.max_steps_per_epoch:
                break
        if not steps:
            raise ValueError("the training set gave no batch: is it empty or smaller than the batch size?")
        keys = dict.fromkeys(k for s in steps for k in s)  # first-seen order: the same row every run
        row = {k: float(sum(s[k] for s in steps if k in s) / sum(1 for s in steps if k in s)) for k in keys}
        row.update(epoch=epoch + 1, stage=stage)
        return row

    def _steps_per_epoch(self, batches) -> int:
        """Steps an epoch takes: its batch count, capped by max_steps_per_epoch (the schedule's unit)."""
        cap = self.config.max_steps_per_epoch
        n = len(batches) if hasattr(batches, "__len__") else cap
        return min(n, cap) if cap else n

    def _set_lr(self, step: int, total: int) -> None:
        """The profile's schedule (pipeline.train.lr_schedule) at 0-based global `step`; constant: untouched."""
        if self.config.lr_decay == "constant" and not self.config.lr_warmup:
            return
        lr = self.config.lr * lr_factor(self.config.lr_decay, self.config.lr_warmup, step, total)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def fit(
        self,
        train_batches: Callable[[int], Iterable[dict]],
        val_batches: Callable[[], Iterable[dict]],
        work_dir: Path | None = None,
        on_epoch_end: Callable[[int], None] | None = None,
        stage_one: dict | None = None,
        until_stage_two: bool = False,
    ) -> dict:
        """Train until `epochs`, early stopping, resuming from ``work_dir/last.pt`` if present.

        train_batches(epoch) gives that epoch's batches (seeded by the epoch); val_batches()
        the validation batches. stage_one: a shared stage I's state to continue from (when there is
        no last.pt); until_stage_two: stop where a two-stage run switches to stage II (the shared stage I
        itself). Returns {"state_dict": selected F weights, "history": rows, "best_epoch": int}.
        """
        checkpoint = resume_path(work_dir)
        if checkpoint is not None and checkpoint.exists():
            self.load(checkpoint)
            self.log(f"resumed from {checkpoint} after epoch {len(self.history)}")
        elif stage_one is not None:
            if self.continue_from(stage_one):
                self.log(f"continues from the shared stage I after epoch {len(self.history)}")
            else:
                self.log("trains alone: it would stop early inside the shared stage I, keeping weights the file "
                         "does not hold")
        # The switch of a two-stage run with this run's stage-I settings (this run itself may have CSC off).
        switch = StageSchedule(csc=True, two_stage=True, stage_one_max_epochs=self.config.stage_one_max_epochs)
        for epoch in range(len(self.history), self.config.epochs):
            if self.selection.stopped or (until_stage_two and switch.next_stage(self.history) == 2):
                break
            start = time.perf_counter()
            row = self.train_epoch(epoch, train_batches(epoch))
            row["loss_val"] = self.validate(val_batches())
            self.history.append(row)
            schedule = self.schedule
            self.selection.update(row, self.strategy.kept(), final_stage=row["stage"] == schedule.final_stage)
            if schedule.next_stage(self.history) != row["stage"]:
                self.selection.restart()  # the next epoch is stage II: select among its epochs only
            self.log(progress_line(row, self.config.epochs, time.perf_counter() - start))
            if checkpoint is not None and dist.is_writer():
                self.save(checkpoint)
            dist.barrier()  # no rank runs ahead of the checkpoint it would resume from
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1)
        state_dict, best_epoch = self.selection.selected(self.strategy.kept(), len(self.history))
        return {"state_dict": state_dict, "history": self.history, "best_epoch": best_epoch}
