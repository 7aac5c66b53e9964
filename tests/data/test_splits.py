"""Seeded splits: official folders kept, 9:1 and 8:1:1 cuts, independent of list order."""
from __future__ import annotations

import pytest

from pipeline.data.registry import DATASETS
from pipeline.data.splits import check_split, make_split

TRAIN = [f"{i:05d}D" for i in range(1, 101)]
TEST = [f"{i:05d}N" for i in range(101, 131)]


def test_official_folders_and_val_fraction():
    split = make_split(DATASETS["msrs"], {"train": TRAIN, "test": TEST}, seed=0, val_fraction=0.1)
    assert split["test"] == TEST and len(split["val"]) == 10 and len(split["train"]) == 90
    assert sorted(split["train"] + split["val"]) == TRAIN
    assert split["train"] == sorted(split["train"]) and split["dataset"] == "msrs" and split["seed"] == 0
    check_split(DATASETS["msrs"], split)


def test_independent_of_order_and_seeded():
    a = make_split(DATASETS["fmb"], {"train": TRAIN, "test": TEST}, seed=0, val_fraction=0.1)
    b = make_split(DATASETS["fmb"], {"train": TRAIN[::-1], "test": TEST}, seed=0, val_fraction=0.1)
    c = make_split(DATASETS["fmb"], {"train": TRAIN, "test": TEST}, seed=1, val_fraction=0.1)
    assert a == b and a["val"] != c["val"]


def test_m3fd_811():
    stems = [f"{i:05d}" for i in range(200)]
    split = make_split(DATASETS["m3fd"], {"all": stems}, seed=0, val_fraction=0.1, m3fd_fractions=(0.8, 0.1, 0.1))
    assert (len(split["train"]), len(split["val"]), len(split["test"])) == (160, 20, 20)
    assert sorted(split["train"] + split["val"] + split["test"]) == stems
    # Adding pairs never moves an existing stem between val and test.
    grown = make_split(DATASETS["m3fd"], {"all": stems + ["99999"]}, seed=0, val_fraction=0.1)
    assert set(split["val"]) - set(grown["val"]) <= set(split["val"])


def test_bad_fractions():
    with pytest.raises(ValueError, match="m3fd_fractions"):
        make_split(DATASETS["m3fd"], {"all": ["00000"]}, seed=0, val_fraction=0.1, m3fd_fractions=(0.5, 0.1, 0.1))
    with pytest.raises(ValueError, match="val_fraction"):
        make_split(DATASETS["msrs"], {"train": TRAIN, "test": TEST}, seed=0, val_fraction=1.5)
