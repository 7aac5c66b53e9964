"""The project's models, loaded from converted original checkpoints, reproduce the originals'
raw outputs (float32, within 1e-5) and the 8-bit images their test scripts write (exactly)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.models.unet5 import UNet5
from pipeline.originals import postprocess as pp
from pipeline.originals.convert import build_model, convert
from tests.golden.originals.seeded import rebuild
from tests.originals.conftest import load_golden

TOLERANCE = 1e-5  # float32 max abs error to the original's raw output


def _image(gray: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(gray.astype(np.float32) / 255.0)[None, None]


def _converted(arch: str, golden_checkpoint):
    data, path = golden_checkpoint(arch)
    model = build_model(arch)
    model.load_state_dict(convert(arch, path), strict=True)
    return data, lambda ir, vis: model(ir, vis)


def _raw(arch: str, data, fuse) -> np.ndarray:
    """The project's output on the inputs the golden raw output was computed from."""
    ir, vis_y = _image(data["ir"]), _image(data["vis_y"])
    with torch.no_grad():
        if arch == "seafusion":  # the original takes the Y of its own RGB -> YCrCb conversion
            return fuse(ir, torch.from_numpy(data["raw_vis_ycrcb"])[:, :1]).numpy()
        if arch == "emma":  # the test script's four corner tiles (the 37x45 whole does not run)
            tiles = pp.emma_tiles(*data["ir"].shape)
            return np.concatenate([fuse(ir[..., r, c], vis_y[..., r, c]).numpy() for r, c in tiles])
        return pp.forward_as_original(arch, fuse, ir, vis_y).numpy()


@pytest.mark.parametrize("arch", ["swinfusion", "seafusion", "emma"])
def test_raw_output_matches_original(arch, golden_checkpoint):
    data, fuse = _converted(arch, golden_checkpoint)
    raw = _raw(arch, data, fuse)
    assert raw.shape == data["raw"].shape
    assert data["raw"].std() > 0.01, "golden output is nearly constant: weights too small"
    error = float(np.abs(raw - data["raw"]).max())
    assert error <= TOLERANCE, f"{arch}: max abs error {error:.3g} > {TOLERANCE}"


@pytest.mark.parametrize("arch, script, vis", [
    ("swinfusion", pp.swinfusion_test, "vis_y"),
    ("seafusion", pp.seafusion_test, "vis_rgb"),
    ("emma", pp.emma_test, "vis_y"),
])
def test_test_script_image_matches_original(arch, script, vis, golden_checkpoint):
    data, fuse = _converted(arch, golden_checkpoint)
    image = script(fuse, data["ir"], data[vis])
    assert image.dtype == np.uint8 and image.shape == data["post"].shape
    assert len(np.unique(data["post"])) > 50, "golden image nearly constant"
    assert np.array_equal(image, data["post"]), f"{arch}: {(image != data['post']).sum()} pixels differ"


def test_unet5_loads_original_layout_and_matches():
    data = load_golden("unet5")
    model = UNet5(input_channel=1).eval()
    model.load_state_dict(rebuild(data), strict=True)  # the released Ai.pth / Av.pth layout, unconverted
    with torch.no_grad():
        out = model(torch.from_numpy(data["raw_input"])).numpy()
    assert data["raw"].std() > 0.01
    error = float(np.abs(out - data["raw"]).max())
    assert error <= TOLERANCE, f"UNet5: max abs error {error:.3g}"


def test_unet5_rejects_sizes_it_cannot_skip_connect():
    with pytest.raises(ValueError, match="multiples of 16"):
        UNet5()(torch.zeros(1, 1, 37, 45))
