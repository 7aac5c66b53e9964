"""Seeded stand-in weights for an original checkpoint, rebuilt from a small manifest.

The golden files keep each original's key layout (names, shapes, dtypes) and the buffers its
code derives (stored as they are), not the 1-124 MB of weights: the weights are drawn here from a
seed, so make_golden.py and the tests rebuild the same checkpoint bit for bit.
"""
from __future__ import annotations

import json
import math

import numpy as np
import torch

FIXED = "fixed:"  # npz entry prefix of stored (non-random) tensors


def _draw(key: str, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """One random float tensor; scales keep activations O(1) so outputs are far from constant."""
    randn = lambda: torch.randn(shape, generator=gen)
    if key.endswith("running_var"):
        return 0.5 + torch.rand(shape, generator=gen)  # positive variances
    if key.endswith("running_mean"):
        return 0.2 * randn()
    if key.endswith("relative_position_bias_table"):
        return randn()  # strong position bias: attention far from uniform
    if key.endswith("attn.scale"):
        return 0.5 + 2 * torch.rand(shape, generator=gen)  # EMMA's per-head temperature, positive
    if key.endswith("weight") and len(shape) >= 2:
        return randn() / math.sqrt(math.prod(shape[1:]))
    if key.endswith("weight"):
        return 1 + 0.3 * randn()  # norm gains around 1
    return 0.1 * randn()  # biases


def manifest(state: dict[str, torch.Tensor], fixed: set[str], seed: int) -> dict[str, np.ndarray]:
    """npz entries describing ``state``: key layout + the tensors named in ``fixed``."""
    layout = [{"key": k, "shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch."), "fixed": k in fixed}
              for k, v in state.items()]
    entries = {"manifest": np.array(json.dumps({"seed": seed, "layout": layout}))}
    entries.update({FIXED + k: state[k].numpy() for k in fixed})
    return entries


def rebuild(npz) -> dict[str, torch.Tensor]:
    """The seeded checkpoint described by a golden npz, in the original's key order."""
    info = json.loads(str(npz["manifest"]))
    gen = torch.Generator().manual_seed(info["seed"])
    state = {}
    for item in info["layout"]:
        key, shape = item["key"], tuple(item["shape"])
        if item["fixed"]:
            state[key] = torch.from_numpy(np.array(npz[FIXED + key]))
        else:
            state[key] = _draw(key, shape, gen).to(getattr(torch, item["dtype"]))
    return state


def fixed_keys(state: dict[str, torch.Tensor]) -> set[str]:
    """Non-float tensors (indices, counters) and SwinFusion's attention masks: stored as saved."""
    return {k for k, v in state.items() if not v.is_floating_point() or k.endswith("attn_mask")}
