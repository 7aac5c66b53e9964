"""One named run, from plain settings to a trained fusion model: what `stages.train` calls.

The stage passes the params blocks as dicts (pipeline never reads params.yaml); this
module builds the networks, the loss, the weighting and the trainer, and describes the
run in a JSON-able record (data/runs/<run>/config.json).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from pipeline.losses.fusion_loss import FusionLossWeights, fusion_loss
from pipeline.losses.original import (EMMA_LEARNED_SENSING_NOTE, emma_learned_framework, original_framework,
                                      retrain_note, sensing_note)
from pipeline.train.config import TrainConfig
from pipeline.train.learning_rate import positive_number, scaled_lr
from pipeline.train.lr_schedule import check_lr_schedule, is_constant
from pipeline.train.schedule import STAGE_SCHEDULE_NOTE
from pipeline.train.selection import BestValidation, LastEpoch
from pipeline.train.strategies import OriginalStrategy, SSVIFStrategy
from pipeline.train.trainer import Trainer


@dataclass
class RunSettings:
    """Everything one run reads from params (resolved by the stage)."""

    name: str
    run: dict  # runs.<name>
    widths: dict  # <profile>.models.<model>
    train: dict  # <profile>.train (ssvif) or <profile>.original
    seed: int = 0
    segformer: dict = field(default_factory=dict)  # <profile>.segformer (ssvif)
    loss: dict = field(default_factory=dict)  # loss.* (ssvif)
    weightings: dict = field(default_factory=dict)  # weightings.* (ssvif)
    weighting: str | None = None  # pipeline.params.run_weighting
    sensing: dict = field(default_factory=dict)  # <profile>.sensing (+ the folder's digests) of original EMMA runs
    schedule: dict = field(default_factory=dict)  # <profile>.original_schedule (original runs)
    lr_scale: float = 1.0  # <profile>.lr_scale: every framework trains at its paper's learning rate x this
    lr_max: float | None = None  # <profile>.lr_max: ... at most this (None: no cap)
    ssvif_lr: float | None = None  # params `ssvif_lr`: SSVIF's paper learning rate (ssvif runs)
    lr_schedule: dict = field(default_factory=dict)  # <profile>.lr_schedule: every framework's rate over its steps
    stage_one_unit: str | None = None  # the shared stage-I unit it continued from (pipeline.train.stage_one)

    @property
    def framework(self) -> str:
        return self.run["framework"]

    @property
    def paper_lr(self) -> float:
        """The framework's paper learning rate: SSVIF's `ssvif_lr`, an original's own (ORIGINAL_FRAMEWORKS)."""
        if self.framework == "original":
            return original_framework(self.run["model"]).lr
        if self.ssvif_lr is None:
            raise ValueError(f"run {self.name}: an SSVIF run needs ssvif_lr (params `ssvif_lr`, the paper's rate)")
        return positive_number(self.ssvif_lr, "ssvif_lr")

    @property
    def lr(self) -> float:
        """The learning rate the run trains at: its paper's x lr_scale, at most lr_max (pipeline.train.learning_rate)."""
        return scaled_lr(self.paper_lr, self.lr_scale, self.lr_max)

    @property
    def capped(self) -> bool:
        """Whether lr_max, not paper rate x lr_scale, sets the run's rate."""
        return self.lr < scaled_lr(self.paper_lr, self.lr_scale)

    @property
    def learned_sensing(self) -> bool:
        """An original EMMA run with its learned pseudo-sensing networks (else the ideal sensors)."""
        return self.framework == "original" and self.run["model"] == "emma" and self.sensing.get("variant") == "learned"

    @property
    def applied_schedule(self) -> dict:
        """The parts of <profile>.original_schedule this original uses ({} when none: the run is as before)."""
        from pipeline.train.original_schedule import EMA_MODELS, check_schedule

        if self.framework != "original":
            return {}
        on = check_schedule(self.schedule)
        on["ema"] = on["ema"] and self.run["model"] in EMA_MODELS
        return on if any(on.values()) else {}

    def record(self) -> dict:
        """The resolved configuration, as written to config.json (no paths, no timings)."""
        rec = {"run": self.name, **{k: v for k, v in asdict(self).items()
                                    if k not in ("name", "sensing", "schedule", "lr_scale", "lr_max", "ssvif_lr",
                                                 "lr_schedule", "stage_one_unit")}}
        schedule = check_lr_schedule(self.lr_schedule)
        if not is_constant(schedule):  # constant (the paper profile): the record every run wrote before
            rec["lr_schedule"] = schedule
        # gradient_stats true is what every run did before it was a param: their records stay as they were
        if rec["train"].get("gradient_stats") is True:
            rec["train"] = {k: v for k, v in rec["train"].items() if k != "gradient_stats"}
        if self.capped:  # uncapped: the record every run wrote before the cap
            rec["lr_max"] = self.lr_max
        if self.framework == "original":
            rec["original_variant"] = original_framework(self.run["model"]).note
            rec["lr"] = self.lr  # its paper's rate (the note) x lr_scale, at most lr_max
            if self.lr_scale != 1:  # 1 (the paper profile): the record every original run wrote before
                rec["lr_scale"] = self.lr_scale
            rec["model_selection"] = LastEpoch.note
            if self.learned_sensing:  # the ideal variant's record stays the one every run wrote before
                rec["original_variant"], rec["sensing"] = sensing_note(EMMA_LEARNED_SENSING_NOTE, self.sensing), self.sensing
            if self.applied_schedule:  # off: the record every run wrote before
                rec["original_variant"] = sensing_note(retrain_note(self.run["model"], self.learned_sensing), self.sensing)
                rec["original_schedule"] = self.applied_schedule
            for key in ("segformer", "loss", "weightings", "weighting"):
                rec.pop(key)
        else:
            rec["train"] = {**rec["train"], "lr": self.lr}  # the rate it trains at, where records always had it
            rec["model_selection"] = BestValidation.note
            rec["stage_one"] = STAGE_SCHEDULE_NOTE
            if self.stage_one_unit:  # trained alone: the record every run wrote before
                rec["stage_one_unit"] = self.stage_one_unit
        return rec

    def digest(self, extra: str = "") -> str:
        """Short digest of the record (and e.g. the split), naming the resumable work directory."""
        text = json.dumps(self.record(), sort_keys=True) + extra
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def train_config(s: RunSettings) -> TrainConfig:
    t, schedule = s.train, check_lr_schedule(s.lr_schedule)
    if s.applied_schedule.get("lr_schedule") and not is_constant(schedule):
        raise ValueError(f"run {s.name}: original_schedule.lr_schedule and lr_schedule.decay/warmup are both on: "
                         "an original follows either its own published schedule or the profile's (turn one off)")
    common = dict(lr_decay=schedule["decay"], lr_warmup=schedule["warmup"], epochs=int(t["epochs"]),
                  batch=int(t["batch"]), seed=int(s.seed), channels=int(s.run["channels"]),
                  max_steps_per_epoch=int(t.get("max_steps_per_epoch", 0)))
    if s.framework == "original":
        return TrainConfig(lr=s.lr, csc=False, two_stage=False, selection="last", **common)
    gradient_stats = t.get("gradient_stats", True)
    if not isinstance(gradient_stats, bool):
        raise ValueError(f"train.gradient_stats={gradient_stats!r}: it must be true or false (the Eq. 8-9 statistics)")
    return TrainConfig(lr=s.lr, patience=int(t["patience"]), csc=bool(s.run["csc"]),
                       two_stage=bool(s.run["two_stage"]), stage_one_max_epochs=int(t.get("stage_one_max_epochs", 0)),
                       gradient_stats=gradient_stats, **common)


def fusion_model_for_training(name: str, channels: int, widths: dict, train: dict):
    """The fusion model a run trains, with the run's memory and speed switches (params
    ``<profile>.train``): ``checkpointing`` recomputes each block's activations in the backward
    pass (same maths, less memory); ``compile`` runs it through torch.compile. Both default off."""
    from pipeline.models.checkpointing import set_checkpointing
    from pipeline.models.compiled import compile_fusion_model
    from pipeline.models.registry import create_fusion_model

    model = create_fusion_model(name, channels, **widths)
    if train.get("checkpointing", False):
        set_checkpointing(model, True)
    if train.get("compile", False):
        compile_fusion_model(model)
    return model


def original_strategy(s: RunSettings, model, sensing: tuple | None) -> OriginalStrategy:
    """The original's loss (EMMA: with A_i, A_v when learned), lr schedule and EMA as params ask."""
    from functools import partial

    from pipeline.train.original_schedule import WeightEMA, lr_factor

    loss, frozen = original_framework(s.run["model"]).loss, ()
    if s.learned_sensing:
        if sensing is None:
            raise ValueError(f"run {s.name}: sensing.variant is learned, but no A_i, A_v were given")
        loss, frozen = emma_learned_framework(*sensing).loss, sensing
    on = s.applied_schedule
    return OriginalStrategy(model, loss, frozen=frozen,
                            lr_factor=partial(lr_factor, s.run["model"]) if on.get("lr_schedule") else None,
                            ema=WeightEMA(model) if on.get("ema") else None)


def build_trainer(s: RunSettings, device=None, log=None, sensing: tuple | None = None) -> Trainer:
    """Networks seeded by the run's seed, the run's loss and (SSVIF + CSC) head, SegFormer, weighting.

    sensing: (A_i, A_v), frozen, for an original EMMA run with learned sensing (pipeline.originals.sensing)."""
    config = train_config(s)
    torch.manual_seed(config.seed)
    model = fusion_model_for_training(s.run["model"], config.channels, s.widths, s.train)
    if s.framework == "original":
        return Trainer(config, original_strategy(s, model, sensing), device=device, log=log)
    weights = FusionLossWeights(float(s.loss["lambda_int"]), float(s.loss["lambda_grad"]), float(s.loss["lambda_ssim"]),
                                float(s.run["lambda_color"]))

    def loss_fn(_model, fused, ir, vis):
        return fusion_loss(fused, ir, vis, weights)["total"]

    head = segmenter = weighting = None
    if config.csc:
        from pipeline.models.seg_head import SegmentationHead
        from pipeline.models.segformer_branch import SegmentationModel
        from pipeline.weighting.registry import create_weighting

        n = int(s.run["n_classes"])
        head = SegmentationHead(model.feature_channels, n)
        segmenter = SegmentationModel(n, config.channels, **s.segformer)
        weighting = create_weighting(s.weighting, s.weightings)
    return Trainer(config, SSVIFStrategy(model, loss_fn, head, segmenter, weighting), device=device, log=log)


def _fit(trainer: Trainer, s: RunSettings, spec, root: str | Path, split: dict, work_dir: Path | None,
         **options) -> dict:
    """trainer.fit on the split's train stems (seeded batches), selecting on its val stems."""
    from pipeline.train.data import train_batches, validation_batches

    crop, batch, seed = int(s.train["crop"]), int(s.train["batch"]), int(s.seed)
    return trainer.fit(
        lambda epoch: train_batches(spec, root, split["train"], crop, batch, seed, epoch),
        lambda: validation_batches(spec, root, split["val"], int(s.train.get("val_crop", 0)), seed),
        work_dir=work_dir, **options,
    )


def train_stage_one(s: RunSettings, spec, root: str | Path, split: dict, work_dir: Path | None, device=None,
                    log=None) -> dict:
    """The shared stage I of member run `s` (pipeline.train.stage_one): F alone on L_fus until a two-stage
    run would switch to stage II, or `epochs`. Returns Trainer.stage_one_state()."""
    # CSC off: F alone, no H, S or weighting (their n_classes and weighting are not the unit's); patience 0:
    # stage I never stops early (each member replays its own patience: Trainer.continue_from).
    alone = replace(s, run={**s.run, "csc": False}, train={**s.train, "patience": 0})
    trainer = build_trainer(alone, device=device, log=log)
    _fit(trainer, alone, spec, root, split, work_dir, until_stage_two=True)
    return trainer.stage_one_state()


def train_run(s: RunSettings, spec, root: str | Path, split: dict, work_dir: Path | None, device=None, log=None,
              on_epoch_end=None, sensing: tuple | None = None, stage_one: dict | None = None) -> dict:
    """Train run `s` on the split's train stems, select on its val stems; resume from work_dir.

    stage_one: the state of its shared stage I (train_stage_one) to continue from.
    Returns {"checkpoint": what model.pt holds, "history": rows, "config": the record + outcome}.
    """
    trainer = build_trainer(s, device=device, log=log, sensing=sensing)
    result = _fit(trainer, s, spec, root, split, work_dir, on_epoch_end=on_epoch_end, stage_one=stage_one)
    state = {k: v.detach().cpu() for k, v in result["state_dict"].items()}
    checkpoint = {"name": s.run["model"], "channels": int(s.run["channels"]), "widths": dict(s.widths),
                  "state_dict": state, "run": s.name, "framework": s.framework}
    stages = [r["stage"] for r in result["history"]]
    config = {**s.record(), "best_epoch": result["best_epoch"], "epochs_trained": len(stages),
              "stage_two_first_epoch": stages.index(2) + 1 if 2 in stages else None}
    return {"checkpoint": checkpoint, "history": result["history"], "config": config}
