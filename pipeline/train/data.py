"""Seeded batches for the trainer from pipeline.data's PairDataset (num_workers=0: deterministic)."""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader


def _collate(items: list[dict]) -> dict:
    return {
        "ir": torch.stack([i["ir"] for i in items]),
        "vis": torch.stack([i["vis"] for i in items]),
        "stem": [i["stem"] for i in items],
    }


def train_batches(spec, root: str | Path, stems: list[str], crop: int, batch: int, seed: int, epoch: int) -> DataLoader:
    """Epoch `epoch`'s shuffled batches of random crops + flips; crops and order seeded by (seed, epoch)."""
    from pipeline.data.torch_dataset import PairDataset

    if not stems:
        raise ValueError(f"{spec.name}: the split file lists no training stems")
    dataset = PairDataset(spec, root, stems, "train", crop=crop, augment=True, seed=seed)
    dataset.set_epoch(epoch)  # crops and flips of item i come from (seed, epoch, i)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return DataLoader(dataset, batch_size=batch, shuffle=True, generator=generator, num_workers=0,
                      drop_last=len(dataset) >= batch, collate_fn=_collate)


def validation_batches(spec, root: str | Path, stems: list[str], crop: int = 0, seed: int = 0) -> DataLoader:
    """Validation images one at a time, in split-file order: whole (crop 0) or one seeded crop each."""
    from pipeline.data.torch_dataset import PairDataset

    if not stems:
        raise ValueError(f"{spec.name}: the split file lists no validation stems (model selection needs them)")
    dataset = PairDataset(spec, root, stems, "val", crop=crop or None, augment=False, seed=seed)
    return DataLoader(dataset, batch_size=1, shuffle=False, num_workers=0, collate_fn=_collate)
