"""pipeline/atomic.py: outputs complete or absent, and with ordinary permissions."""
from __future__ import annotations

import os
import stat

import pytest

from pipeline.atomic import atomic_dir, atomic_torch_save


def test_atomic_dir_has_the_mode_of_a_plain_folder(tmp_path):
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("a")
    (tmp_path / "plain").mkdir()
    mode = stat.S_IMODE(os.stat(tmp_path / "out").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode) and mode != 0o700


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_torch_save_round_trips(tmp_path):
    torch = pytest.importorskip("torch")
    atomic_torch_save(tmp_path / "m.pt", {"w": torch.arange(3)})
    assert torch.equal(torch.load(tmp_path / "m.pt")["w"], torch.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
