"""Golden files of the released originals (tests/golden/originals, made by make_golden.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.golden.originals.seeded import rebuild

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "originals"


def load_golden(name: str):
    """The golden npz of ``name``; the test skips, naming the file and how to make it, when absent."""
    path = GOLDEN / f"{name}.npz"
    if not path.is_file():
        pytest.skip(f"golden file {path} absent: run tests/golden/originals/make_golden.py --upstream DIR")
    return np.load(path)


@pytest.fixture
def golden_checkpoint(tmp_path):
    """name -> (golden npz, path of the seeded checkpoint saved in the original's layout)."""

    def make(name: str):
        data = load_golden(name)
        path = tmp_path / f"{name}.pth"
        torch.save(rebuild(data), path)  # a plain state dict, as the test scripts load it
        return data, path

    return make
