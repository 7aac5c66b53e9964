"""The learning-rate rule: every framework trains at its paper's learning rate x `<profile>.lr_scale`, at most
`<profile>.lr_max`.

One rule for SSVIF and the original frameworks alike, so that a shortened profile treats them like
for like (quick: 10x for its ~200 steps, at most 1e-3; paper: 1x, no cap). SSVIF's paper rate is params
`ssvif_lr` (paper Sec. IV-A: Adam 1e-4); each original's is its own paper's, beside its loss in
`ORIGINAL_FRAMEWORKS` (pipeline/losses/original.py). The cap is the highest rate any of the papers trains at
(SeAFusion's 1e-3): 10x that saturates SeAFusion's tanh output to a constant image (docs/measurements.md).
"""
from __future__ import annotations

import math


def positive_number(value, key: str) -> float:
    """`value` as a float when it is a finite number > 0; a ValueError naming `key` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{key}={value!r}: give a positive number (every framework trains at its paper's "
                         "learning rate x <profile>.lr_scale, at most <profile>.lr_max; lr_max null: no cap)")
    return float(value)


def scaled_lr(paper_lr: float, lr_scale, lr_max=None, key: str = "lr_scale", max_key: str = "lr_max") -> float:
    """A framework's paper learning rate x `lr_scale`, at most `lr_max` (None: no cap); each checked, the error
    naming `key` or `max_key`."""
    scaled = paper_lr * positive_number(lr_scale, key)
    return scaled if lr_max is None else min(scaled, positive_number(lr_max, max_key))
