"""Fixtures of the data tests: tiny synthetic datasets in their official layouts."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.data.registry import DATASETS
from pipeline.data.synthetic import generate_dataset

TINY = {"msrs": {"train": 4, "test": 2, "height": 48, "width": 64},
        "fmb": {"train": 4, "test": 2, "height": 48, "width": 64},
        "m3fd": {"count": 6, "height": 48, "width": 64}}


@pytest.fixture(scope="session")
def tiny_sizes() -> dict:
    """Sizes of the tiny datasets (6 pairs each)."""
    return TINY


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    for name, size in TINY.items():
        generate_dataset(DATASETS[name], root / name, seed=0, size=size)
    return root


@pytest.fixture
def tiny(tiny_cache, tmp_path):
    """A writable copy of a tiny synthetic dataset: tiny("msrs") -> its root."""
    def make(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(tiny_cache / name, target)
        return target
    return make
