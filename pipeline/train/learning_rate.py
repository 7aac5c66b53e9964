"""The learning-rate rule: every framework trains at its paper's learning rate x `<profile>.lr_scale`.

One rule for SSVIF and the original frameworks alike, so that a shortened profile treats them like
for like (quick: 10x for its 64 steps; paper: 1x). SSVIF's paper rate is params `ssvif_lr` (paper
Sec. IV-A: Adam 1e-4); each original's is its own paper's, beside its loss in `ORIGINAL_FRAMEWORKS`
(pipeline/losses/original.py).
"""
from __future__ import annotations

import math


def positive_number(value, key: str) -> float:
    """`value` as a float when it is a finite number > 0; a ValueError naming `key` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{key}={value!r}: give a positive number (every framework trains at its paper's "
                         "learning rate x <profile>.lr_scale)")
    return float(value)


def scaled_lr(paper_lr: float, lr_scale, key: str = "lr_scale") -> float:
    """A framework's paper learning rate x `lr_scale` (checked: a positive number, named `key` in the error)."""
    return paper_lr * positive_number(lr_scale, key)
