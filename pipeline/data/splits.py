"""Seeded train/val/test splits that depend on neither list order nor Python's hash seed.

Rule: each stem is ranked by ``sha256(f"{seed}:{stem}")`` (hex digest, ties by stem); the
lowest ranks go to val (and, for M3FD, then test). A stem's rank never depends on the other
stems, so adding pairs moves only the new ones.
"""
from __future__ import annotations

import hashlib

from pipeline.data.registry import DatasetSpec

RULE_OFFICIAL = ("official test folder = test; official train folder cut by rank of sha256('<seed>:<stem>'): "
                 "the round(val_fraction * n) lowest ranks = val, the rest = train")
RULE_M3FD = ("no official split: rank of sha256('<seed>:<stem>'): the first round(f_val * n) ranks = val, "
             "the next round(f_test * n) = test, the rest = train")


def rank(stems, seed: int) -> list[str]:
    """Stems ordered by sha256 of '<seed>:<stem>' (deterministic across runs and machines)."""
    return sorted(set(stems), key=lambda s: (hashlib.sha256(f"{seed}:{s}".encode()).hexdigest(), s))


def make_split(spec: DatasetSpec, stems_by_group: dict[str, list[str]], seed: int, val_fraction: float,
               m3fd_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict:
    """Split file content ``{"dataset", "seed", "rule", "train", "val", "test"}`` with sorted stems.

    ``stems_by_group``: the official groups from validation (``train``/``test`` or ``all``).
    """
    if spec.official_splits:
        if not 0 <= val_fraction < 1:
            raise ValueError(f"split.val_fraction={val_fraction!r} must be in [0, 1)")
        ranked = rank(stems_by_group["train"], seed)
        n_val = round(val_fraction * len(ranked))
        parts = {"val": ranked[:n_val], "train": ranked[n_val:], "test": list(stems_by_group["test"])}
        rule = RULE_OFFICIAL.replace("val_fraction", f"val_fraction={val_fraction}")
    else:
        fractions = [float(f) for f in m3fd_fractions]
        if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
            raise ValueError(f"split.m3fd_fractions={m3fd_fractions!r} must be three non-negative "
                             "train/val/test fractions summing to 1")
        ranked = rank(stems_by_group["all"], seed)
        n_val, n_test = round(fractions[1] * len(ranked)), round(fractions[2] * len(ranked))
        parts = {"val": ranked[:n_val], "test": ranked[n_val:n_val + n_test], "train": ranked[n_val + n_test:]}
        rule = RULE_M3FD.replace("f_val", f"f_val={fractions[1]}").replace("f_test", f"f_test={fractions[2]}")
    return {"dataset": spec.name, "seed": int(seed), "rule": rule, **{k: sorted(v) for k, v in parts.items()}}


def check_split(spec: DatasetSpec, split: dict) -> None:
    """A split file must name its dataset and hold disjoint sorted stem lists for train/val/test."""
    for key in ("dataset", "seed", "rule", "train", "val", "test"):
        if key not in split:
            raise ValueError(f"split file of {spec.name} lacks {key!r}; regenerate it with the split stage")
    if split["dataset"] != spec.name:
        raise ValueError(f"split file is for {split['dataset']!r}, not {spec.name!r}")
    seen: set[str] = set()
    for part in ("train", "val", "test"):
        if set(split[part]) & seen:
            raise ValueError(f"split file of {spec.name}: {part} overlaps another split")
        seen |= set(split[part])
