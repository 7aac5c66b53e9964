import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pipeline.fuse.command import fuse


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def checkpoint(tmp_path):
    from pipeline.models.registry import create_fusion_model

    widths = {"width": 4}
    torch.manual_seed(0)
    model = create_fusion_model("seafusion", 1, **widths)
    path = tmp_path / "model.pt"
    torch.save({"name": "seafusion", "channels": 1, "widths": widths, "state_dict": model.state_dict()}, path)
    return path


def _pairs(tmp_path, stems_ir, stems_vis, size=(24, 32)):
    rng = np.random.default_rng(0)
    for stem in stems_ir:
        _write(tmp_path / "ir" / f"{stem}.png", rng.integers(0, 255, size, dtype=np.uint8))
    for stem in stems_vis:
        _write(tmp_path / "vis" / f"{stem}.png", rng.integers(0, 255, (*size, 3), dtype=np.uint8))


def test_fuse_writes_rgb_pngs_colourised_from_the_visible(tmp_path, checkpoint):
    _pairs(tmp_path, ["a", "b"], ["a", "b"])
    args = ["--checkpoint", checkpoint, "--ir", tmp_path / "ir", "--vis", tmp_path / "vis", "--out", tmp_path / "out"]
    result = CliRunner().invoke(fuse, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    images = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in images] == ["a.png", "b.png"]
    fused = np.asarray(Image.open(images[0]))
    assert fused.shape == (24, 32, 3) and fused.dtype == np.uint8
    assert np.abs(fused[..., 0].astype(int) - fused[..., 2]).max() > 0  # coloured, not grey


def test_unpaired_images_are_a_clear_error(tmp_path, checkpoint):
    _pairs(tmp_path, ["a", "b"], ["a"])
    args = ["--checkpoint", checkpoint, "--ir", tmp_path / "ir", "--vis", tmp_path / "vis", "--out", tmp_path / "out"]
    result = CliRunner().invoke(fuse, [str(a) for a in args])
    assert result.exit_code != 0 and "infrared only ['b']" in result.output
    assert not (tmp_path / "out").exists()


def test_size_mismatch_names_the_pair(tmp_path, checkpoint):
    _write(tmp_path / "ir" / "a.png", np.zeros((24, 32), np.uint8))
    _write(tmp_path / "vis" / "a.png", np.zeros((20, 32, 3), np.uint8))
    args = ["--checkpoint", checkpoint, "--ir", tmp_path / "ir", "--vis", tmp_path / "vis", "--out", tmp_path / "out"]
    result = CliRunner().invoke(fuse, [str(a) for a in args])
    assert result.exit_code != 0 and "a:" in result.output and "differ in size" in result.output
