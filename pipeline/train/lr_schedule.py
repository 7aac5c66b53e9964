"""The profile's learning-rate schedule over a run's steps (params `<profile>.lr_schedule`), one for every framework.

A shortened profile ends training long before the papers' schedules would decay the rate, so the weights
it keeps are those of a run still at its full rate. `cosine` lowers the rate of every framework alike
(SSVIF and each original) from its scaled paper rate to 0 over the run's steps, after a linear warm-up
over the first `warmup` fraction of them; `constant` (the paper profile) keeps it, and an original's own
published schedule (`<profile>.original_schedule`) then applies instead.
"""
from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine")


def check_lr_schedule(block: dict | None) -> dict:
    """`<profile>.lr_schedule` as {"decay": constant|cosine, "warmup": fraction in [0, 1)}; absent: constant."""
    block = dict(block or {})
    unknown = set(block) - {"decay", "warmup"}
    if unknown:
        raise ValueError(f"lr_schedule: unknown settings {sorted(unknown)}; valid: decay, warmup")
    decay, warmup = block.get("decay", "constant"), block.get("warmup", 0.0)
    if decay not in SCHEDULES:
        raise ValueError(f"lr_schedule.decay={decay!r}: choose one of {', '.join(SCHEDULES)}")
    if isinstance(warmup, bool) or not isinstance(warmup, (int, float)) or not 0 <= warmup < 1:
        raise ValueError(f"lr_schedule.warmup={warmup!r}: give the warm-up as a fraction of the steps, 0 <= warmup < 1")
    return {"decay": decay, "warmup": float(warmup)}


def is_constant(schedule: dict) -> bool:
    """A checked schedule that never changes the rate (the paper profile's, and an absent block's)."""
    return schedule == check_lr_schedule({})


def lr_factor(decay: str, warmup: float, step: int, total: int) -> float:
    """lr / the run's rate at 0-based `step` of `total` steps: linear warm-up, then constant or a cosine to 0."""
    if decay == "constant" and not warmup:
        return 1.0
    warm = math.ceil(warmup * total)
    if step < warm:
        return (step + 1) / warm  # the first step already moves: (1 / warm) of the rate
    if decay == "constant":
        return 1.0
    progress = (step - warm) / max(1, total - warm)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
