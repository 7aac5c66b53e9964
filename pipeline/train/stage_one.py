"""The shared stage I (issue 21): which runs train the same stage I, and the record that names it.

Stage I (Eq. 3's L_fus alone, the fusion model F alone; pipeline.train.schedule) is one computation
for every run with the same model, dataset, channels, lambda_color (lambda4), seed and profile-wide
stage-I settings. One `stage_one@<unit>` stage trains it; each member run continues from its state
(pipeline.train.trainer, `Trainer.continue_from`), with bytes identical to training the run alone.
Torch-free: the DAG generator imports it.
"""
from __future__ import annotations

from pipeline.seeds import seeded

# The fields of runs.<run> that stage I reads: they name the unit.
KEY_FIELDS = ("model", "dataset", "channels", "lambda_color")
# Fields of runs.<run> stage I never reads, so runs that differ only in them share one unit:
#   n_classes, weighting, csc: head H, SegFormer S and w_csc join in stage II only;
#   headline: it only chooses the weighting; fuse_m3fd: what happens after training.
IGNORED_RUN_FIELDS = ("n_classes", "weighting", "csc", "headline", "fuse_m3fd")
# Fields of <profile>.train stage I never reads:
#   patience: early stopping acts in the final stage; a csc-false member replays it itself (Trainer.continue_from);
#   gradient_stats: the Eq. 8-9 statistics of stage-II steps.
UNREAD_TRAIN = ("patience", "gradient_stats")
# The <profile>.train fields stage I reads (tests/train/test_stage_one.py: every other field of both profiles).
TRAIN_FIELDS = ("epochs", "crop", "batch", "max_steps_per_epoch", "val_crop", "stage_one_max_epochs",
                "checkpointing", "compile")


def member(run: dict) -> bool:
    """True for a run that trains the shared stage I first.

    SSVIF with two_stage (and CSC): stage I until the switch, then stage II. CSC off: stage I
    throughout, so its first epochs are the unit's epochs and it continues in stage I. Not
    two_stage with CSC (stage II from epoch 1) and the original frameworks (their own loss): none.
    """
    return run.get("framework") == "ssvif" and (not run.get("csc", True) or bool(run.get("two_stage")))


def unit_name(run_name: str, run: dict, seed: int | None = None) -> str | None:
    """The stage-I unit of run `run_name` (None: it has none), e.g. `swinfusion-fmb-3ch-l20`;
    `seed` None is the first training seed (unsuffixed), any other adds `-s<seed>` (pipeline.seeds)."""
    if not member(run):
        return None
    missing = [f for f in KEY_FIELDS if f not in run]
    if missing:
        raise ValueError(f"params.yaml runs.{run_name} has no {', '.join(missing)}: an SSVIF run needs them")
    model, dataset, channels, color = (run[f] for f in KEY_FIELDS)
    return seeded(f"{model}-{dataset}-{int(channels)}ch-l{float(color):g}", seed)


def units(runs: dict, seed: int | None = None) -> dict[str, str]:
    """{unit: its representative run}: the first member in params order, whose block the unit's stage reads."""
    found: dict[str, str] = {}
    for name, run in runs.items():
        unit = unit_name(name, run, seed)
        if unit is not None:
            found.setdefault(unit, name)
    return found


def record(s, split_doc: dict, **extra) -> dict:
    """What a stage-I state holds the computation of (RunSettings `s`, its split, threads and processes in
    `extra`): written into the unit's file and compared with a member's own, so another group's file is refused."""
    import hashlib
    import json

    return {
        "unit": unit_name(s.name, s.run),
        "model": s.run["model"], "dataset": s.run["dataset"],
        "channels": int(s.run["channels"]), "lambda_color": float(s.run["lambda_color"]),  # 20 and 20.0: one unit
        "seed": int(s.seed),
        "widths": dict(s.widths),
        "train": {k: s.train.get(k) for k in TRAIN_FIELDS},
        "loss": dict(s.loss),
        "lr": s.lr,
        "lr_schedule": dict(s.lr_schedule),  # the rate at every step (pipeline.train.lr_schedule)
        "split": hashlib.sha256(json.dumps(split_doc, sort_keys=True).encode()).hexdigest()[:12],
        **extra,
    }
