"""Hand-checkable cases of the fusion metrics (values derived from the definitions)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.metrics.delta_e import ciede2000, rgb8_to_lab
from pipeline.metrics.entropy import entropy, mutual_information
from pipeline.metrics.fusion import METRICS, check_metric_names, fusion_metrics
from pipeline.metrics.protocol import ImageError, colourise_luminance, read_rgb8
from pipeline.metrics.scoring import summarise

H, W = 176, 200  # just above MS-SSIM's 160-pixel minimum


def _textured(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (1, 3, H, W), dtype=torch.uint8, generator=g)


def test_identical_images_reach_the_maxima():
    rgb = _textured()
    gray = rgb[:, :1]
    rgb = gray.expand(-1, 3, -1, -1).contiguous()  # F = A = B exactly (gray)
    s = fusion_metrics(rgb, gray, rgb)
    assert s["Qabf"].item() == pytest.approx(0.9753, abs=2e-4)  # Tg * Ta / (1 + e^{ka (1 - Da)})
    assert s["SSIM"].item() == pytest.approx(2.0, abs=1e-12)
    assert s["SSIM_L255"].item() == pytest.approx(2.0, abs=1e-12)
    assert s["MSS"].item() == pytest.approx(2.0, abs=1e-12)
    assert s["VIF"].item() == pytest.approx(2.0, abs=1e-9)
    assert s["dE"].item() == 0.0
    assert s["MI"].item() == pytest.approx(2 * s["EN"].item(), rel=1e-12)


def test_mi_of_an_image_with_itself_is_its_entropy_in_bits():
    f = _textured(1)[:, :1].to(torch.float64)
    assert mutual_information(f, f).item() == pytest.approx(entropy(f).item(), rel=1e-12)
    uniform = torch.arange(256, dtype=torch.float64).repeat(16).view(1, 1, 64, 64)
    assert entropy(uniform).item() == pytest.approx(8.0)


def test_constant_images_give_documented_nan_handling():
    # black: the zero-padded Sobel sees no edge even at the border (a grey image would)
    c = torch.zeros((1, 3, H, W), dtype=torch.uint8)
    s = fusion_metrics(c, c[:, :1], c)
    assert math.isnan(s["Qabf"].item())  # 0 / 0: no gradient anywhere
    assert s["VIF"].item() == 2.0  # each source 0/0 -> 1.0, the reference rule
    assert s["EN"].item() == 0.0 and s["MI"].item() == 0.0
    rows = [{"image": "flat", **{k: v.item() for k, v in s.items()}},
            {"image": "tex", **{k: v.item() for k, v in fusion_metrics(_textured(), _textured(2)[:, :1], _textured(3)).items()}}]
    summary = summarise(rows)
    assert summary["count"] == 2
    assert summary["nan_counts"]["Qabf"] == 1 and summary["nan_counts"]["EN"] == 0
    assert summary["Qabf"] == round(rows[1]["Qabf"], 6)  # mean over the non-NaN images


def test_overflow_and_non_integer_inputs_are_rejected(tmp_path):
    ok = _textured()
    with pytest.raises(ValueError, match="exceed 8-bit"):
        fusion_metrics(ok.to(torch.int32) * 2, ok[:, :1], ok)
    with pytest.raises(ValueError, match="non-integer"):
        fusion_metrics(ok.to(torch.float64).clamp(max=200) + 0.25, ok[:, :1], ok)
    import cv2

    cv2.imwrite(str(tmp_path / "deep.png"), np.full((8, 8), 1000, np.uint16))
    with pytest.raises(ImageError, match="8-bit"):
        read_rgb8(tmp_path / "deep.png")


def test_shape_errors_and_registry():
    a = _textured()
    with pytest.raises(ValueError, match="never resize"):
        fusion_metrics(a, a[:, :1, :-1], a)
    with pytest.raises(KeyError, match="valid names"):
        check_metric_names(["PSNR"])
    assert list(METRICS) == ["EN", "MI", "MI_nats", "VIF", "Qabf", "SSIM", "SSIM_L255", "MSS", "MSS_L255", "dE"]
    with pytest.raises(ValueError, match="160"):
        fusion_metrics(a[..., :150, :], a[:, :1, :150, :], a[..., :150, :])


def test_single_channel_fused_is_colourised_with_visible_chroma():
    vis = _textured(4)
    r, g, b = vis.to(torch.float64).unbind(1)
    y = (0.299 * r + 0.587 * g + 0.114 * b)[:, None]
    back = colourise_luminance(y, vis)
    assert (back - vis.to(torch.float64)).abs().max() <= 1.0  # BT.601 round trip, 8-bit rounding
    s1 = fusion_metrics(y.round().to(torch.uint8), vis[:, :1], vis)
    s3 = fusion_metrics(colourise_luminance(y.round(), vis).to(torch.uint8), vis[:, :1], vis)
    assert s1["dE"].item() == pytest.approx(s3["dE"].item())


def test_lab_and_ciede2000_match_colour_science():
    colour = pytest.importorskip("colour")
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 3, 50, 50)).astype(np.uint8)
    rgb[0, :, 0, :] = 128  # neutral greys: a' = b = 0, hue undefined
    lab = rgb8_to_lab(torch.from_numpy(rgb)).numpy()
    ref = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb.transpose(0, 2, 3, 1) / 255.0))
    np.testing.assert_allclose(lab.transpose(0, 2, 3, 1), ref, atol=1e-10)
    de = ciede2000(torch.from_numpy(lab[:1]), torch.from_numpy(lab[1:]))[0].numpy()
    np.testing.assert_allclose(de, colour.delta_E(ref[0], ref[1], method="CIE 2000"), atol=1e-9)


def test_worker_threads_give_the_single_thread_values():
    """On CPU the batch is shared among worker threads: values must not depend on how many."""
    fused, vis = torch.cat([_textured(s) for s in (2, 3, 4)]), torch.cat([_textured(s) for s in (5, 6, 7)])
    ir = torch.cat([_textured(s)[:, :1] for s in (8, 9, 10)])
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = fusion_metrics(fused, ir, vis)
        torch.set_num_threads(3)
        threaded = fusion_metrics(fused, ir, vis)
        assert torch.get_num_threads() == 3  # the caller's thread count is restored
    finally:
        torch.set_num_threads(before)
    for name, values in single.items():
        torch.testing.assert_close(threaded[name], values, rtol=0, atol=1e-12, equal_nan=True, msg=name)


def test_reader_is_immune_to_ultralytics_global_patches(tmp_path):
    """Importing ultralytics replaces cv2.imread and PIL.Image.open process-wide (HEIF plugin
    fallback, 16-bit shifted to 8-bit): an unreadable file and a 16-bit file must still be
    clear ImageErrors, whatever was imported before."""
    pytest.importorskip("ultralytics", reason="ultralytics is not installed")
    import importlib
    import os

    os.environ.setdefault("YOLO_OFFLINE", "true")
    importlib.import_module("ultralytics")  # applies its patches
    from PIL import Image

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ImageError, match="bad.png.*cannot read"):
        read_rgb8(bad)
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((8, 8), 4000, dtype=np.uint16)).save(deep)
    with pytest.raises(ImageError, match="8-bit"):
        read_rgb8(deep)


def test_uint8_and_float_inputs_give_the_same_values():
    """prepare_inputs takes gray from uint8 inputs directly (and skips a 3-channel uint8 infrared's
    float64 copy): the same values as integer-valued float64 inputs."""
    fused, ir, vis = _textured(11), _textured(12), _textured(13)
    as_uint8 = fusion_metrics(fused, ir, vis)
    as_float = fusion_metrics(fused.double(), ir.double(), vis.double())
    for name, values in as_uint8.items():
        torch.testing.assert_close(as_float[name], values, rtol=0, atol=0, equal_nan=True, msg=name)
