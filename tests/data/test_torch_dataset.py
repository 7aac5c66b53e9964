"""PairDataset: shapes, ranges, one crop window for every modality, padding."""
from __future__ import annotations

import numpy as np
import torch

from pipeline.data.io import write_png
from pipeline.data.raw_layout import pair_paths
from pipeline.data.registry import DATASETS
from pipeline.data.torch_dataset import PairDataset


def test_items_of_tiny_msrs(tiny_cache):
    spec = DATASETS["msrs"]
    stems = sorted(p.stem for p in (tiny_cache / "msrs" / "test" / "ir").iterdir())
    item = PairDataset(spec, tiny_cache / "msrs", stems, "test", with_label=True)[0]
    assert item["ir"].shape == (1, 48, 64) and item["vis"].shape == (3, 48, 64) and item["label"].shape == (48, 64)
    assert item["ir"].dtype == torch.float32 and item["label"].dtype == torch.int64
    assert 0 <= item["ir"].min() and item["vis"].max() <= 1 and item["stem"] == stems[0]


def test_crop_and_flip_keep_modalities_aligned(tmp_path):
    spec = DATASETS["fmb"]
    label = np.random.default_rng(0).integers(0, 15, size=(40, 50)).astype(np.uint8)
    paths = pair_paths(spec, tmp_path, "00001", "train")
    write_png(paths["ir"], label * 10)
    write_png(paths["vis"], np.stack([label * 10, label, label], axis=-1))
    write_png(paths["label"], label)
    data = PairDataset(spec, tmp_path, ["00001"], "train", crop=16, augment=True, with_label=True, seed=3)
    for epoch in range(4):
        data.set_epoch(epoch)
        item = data[0]
        expected = item["label"].float() * 10 / 255
        assert item["ir"].shape == (1, 16, 16)
        assert torch.allclose(item["ir"][0], expected) and torch.allclose(item["vis"][0], expected)
    assert torch.equal(data[0]["label"], data[0]["label"])  # deterministic per (seed, epoch, index)


def test_crop_larger_than_image_pads_with_ignore(tmp_path):
    spec = DATASETS["fmb"]
    paths = pair_paths(spec, tmp_path, "00001", "test")
    write_png(paths["ir"], np.full((10, 12), 9, np.uint8))
    write_png(paths["vis"], np.full((10, 12, 3), 9, np.uint8))
    write_png(paths["label"], np.ones((10, 12), np.uint8))
    item = PairDataset(spec, tmp_path, ["00001"], "test", crop=16, with_label=True)[0]
    assert item["label"].shape == (16, 16) and (item["label"] == 255).sum() == 16 * 16 - 10 * 12
