"""The resume checkpoint ``<work_dir>/last.pt``: everything a run needs to continue after its last epoch.

Written atomically after every epoch (an interruption never leaves a truncated file); loaded only
by a run of the same TrainConfig, since another configuration's epochs would be resumed silently.
Also the shared stage I's state file (pipeline.train.stage_one), loaded only by a run of its record.
"""
from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

import torch

from pipeline.atomic import atomic_torch_save

RESUME_FILE = "last.pt"


def resume_path(work_dir: str | Path | None) -> Path | None:
    """Where the run's resume checkpoint lives (None: no work dir, no resuming)."""
    return Path(work_dir) / RESUME_FILE if work_dir is not None else None


def save_resume_state(path: Path, config, state: dict) -> None:
    """state: modules, optimizer, history, stage_two and the selection's keys; the config is added."""
    atomic_torch_save(path, {"config": asdict(config), **state})


def load_resume_state(path: Path, config, device: torch.device) -> dict:
    """The state saved by :func:`save_resume_state`; a checkpoint of another configuration is refused."""
    state = torch.load(path, map_location=device, weights_only=False)
    if state["config"] != asdict(config):
        raise ValueError(f"{path} was written by a different configuration: delete it to start over")
    return state


def canonical(obj):
    """A copy of `obj` whose pickle depends on its values alone: fresh containers, every string interned.

    pickle writes a repeated object as a back-reference, so bytes depend on which equal strings are one object;
    a resumed stage I holds its kept epoch's strings from last.pt, a fresh one the module's (issue 21's CI failure).
    Tensors are kept as they are (their storages are pickled by identity, which the state does not share).
    """
    if isinstance(obj, str):
        return sys.intern(obj)
    if type(obj) in (dict, OrderedDict):
        out = type(obj)((canonical(k), canonical(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):  # a module state_dict's per-module versions, which load_state_dict reads
            out._metadata = canonical(obj._metadata)
        return out
    if type(obj) in (list, tuple):
        return type(obj)(canonical(v) for v in obj)
    return obj


def save_stage_one_state(path: Path, record: dict, state: dict) -> None:
    """A shared stage I's state (Trainer.stage_one_state) and its record (pipeline.train.stage_one.record),
    the same bytes whether the unit trained through or resumed from its work dir."""
    atomic_torch_save(path, canonical({"record": record, **state}))


def load_stage_one_state(path: Path, record: dict, device: torch.device) -> dict:
    """The state saved by :func:`save_stage_one_state`; refused, naming what differs, for another record."""
    state = torch.load(path, map_location=device, weights_only=False)
    theirs = state.get("record", {})
    if theirs != record:
        differ = "; ".join(f"{k}: {theirs.get(k)!r} in the file, {record.get(k)!r} for this run"
                           for k in sorted(set(theirs) | set(record)) if theirs.get(k) != record.get(k))
        raise ValueError(f"{path} is the stage I of another group ({differ}): give this run its own unit's "
                         f"folder (stage_one@{record['unit']}), or re-run that unit after a params change")
    return state
