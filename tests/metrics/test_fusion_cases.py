"""Hand-checkable cases of the fusion metrics (values derived from the definitions)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.metrics.delta_e import ciede2000, rgb8_to_lab
from pipeline.metrics.entropy import entropy, mutual_information
from pipeline.metrics.fusion import METRICS, check_metric_names, fusion_metrics
from pipeline.metrics.protocol import ImageError, colourise_luminance, read_rgb8
from pipeline.metrics.scoring import summarise

H, W = 176, 200  # just above MS-SSIM's 160-pixel minimum


def _textured(seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 noise."""
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def test_identical_images_reach_the_maxima():
    gray = _textured()[..., 0]
    rgb = np.repeat(gray[..., None], 3, axis=2)  # F = A = B exactly (gray)
    s = fusion_metrics(rgb, gray, rgb)
    assert s["Qabf"] == pytest.approx(0.9753, abs=2e-4)  # Tg * Ta / (1 + e^{ka (1 - Da)})
    assert s["SSIM"] == pytest.approx(2.0, abs=1e-12)
    assert s["SSIM_L255"] == pytest.approx(2.0, abs=1e-12)
    assert s["MSS"] == pytest.approx(2.0, abs=1e-12)
    assert s["VIF"] == pytest.approx(2.0, abs=1e-9)
    assert s["dE"] == 0.0
    assert s["MI"] == pytest.approx(2 * s["EN"], rel=1e-12)


def test_mi_of_an_image_with_itself_is_its_entropy_in_bits():
    f = _textured(1)[..., 0].astype(np.float64)
    assert mutual_information(f, f) == pytest.approx(entropy(f), rel=1e-12)
    uniform = np.tile(np.arange(256, dtype=np.float64), 16).reshape(64, 64)
    assert entropy(uniform) == pytest.approx(8.0)


def test_constant_images_give_documented_nan_handling():
    # black: the zero-padded Sobel sees no edge even at the border (a grey image would)
    c = np.zeros((H, W, 3), dtype=np.uint8)
    s = fusion_metrics(c, c[..., 0], c)
    assert math.isnan(s["Qabf"])  # 0 / 0: no gradient anywhere
    assert s["VIF"] == 2.0  # each source 0/0 -> 1.0, the reference rule
    assert s["EN"] == 0.0 and s["MI"] == 0.0
    rows = [{"image": "flat", **s},
            {"image": "tex", **fusion_metrics(_textured(), _textured(2)[..., 0], _textured(3))}]
    summary = summarise(rows)
    assert summary["count"] == 2
    assert summary["nan_counts"]["Qabf"] == 1 and summary["nan_counts"]["EN"] == 0
    assert summary["Qabf"] == round(rows[1]["Qabf"], 6)  # mean over the non-NaN images


def test_overflow_and_non_integer_inputs_are_rejected(tmp_path):
    ok = _textured()
    with pytest.raises(ValueError, match="exceed 8-bit"):
        fusion_metrics(ok.astype(np.int32) * 2, ok[..., 0], ok)
    with pytest.raises(ValueError, match="non-integer"):
        fusion_metrics(np.minimum(ok.astype(np.float64), 200) + 0.25, ok[..., 0], ok)
    import cv2

    cv2.imwrite(str(tmp_path / "deep.png"), np.full((8, 8), 1000, np.uint16))
    with pytest.raises(ImageError, match="8-bit"):
        read_rgb8(tmp_path / "deep.png")


def test_shape_errors_and_registry():
    a = _textured()
    with pytest.raises(ValueError, match="never resize"):
        fusion_metrics(a, a[:, :-1, 0], a)
    with pytest.raises(ValueError, match="visible: expected shape"):
        fusion_metrics(a, a[..., 0], a[..., 0])
    with pytest.raises(KeyError, match="valid names"):
        check_metric_names(["PSNR"])
    assert list(METRICS) == ["EN", "MI", "MI_nats", "VIF", "Qabf", "SSIM", "SSIM_L255", "MSS", "MSS_L255", "dE"]
    with pytest.raises(ValueError, match="160"):
        fusion_metrics(a[:150], a[:150, :, 0], a[:150])


def test_single_channel_fused_is_colourised_with_visible_chroma():
    vis = _textured(4)
    v = vis.astype(np.float64)
    y = 0.299 * v[..., 0] + 0.587 * v[..., 1] + 0.114 * v[..., 2]
    back = colourise_luminance(y, vis)
    assert np.abs(back - v).max() <= 1.0  # BT.601 round trip, 8-bit rounding
    s1 = fusion_metrics(np.round(y).astype(np.uint8), vis[..., 0], vis)
    s3 = fusion_metrics(colourise_luminance(np.round(y), vis).astype(np.uint8), vis[..., 0], vis)
    assert s1["dE"] == pytest.approx(s3["dE"])


def test_lab_and_ciede2000_match_colour_science():
    colour = pytest.importorskip("colour")
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 50, 50, 3)).astype(np.uint8)
    rgb[0, 0] = 128  # neutral greys: a' = b = 0, hue undefined
    lab = rgb8_to_lab(rgb)  # (3, 2, 50, 50): planes first
    ref = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb / 255.0))
    np.testing.assert_allclose(np.moveaxis(lab, 0, -1), ref, atol=1e-10)
    de = ciede2000(lab[:, 0], lab[:, 1])
    np.testing.assert_allclose(de, colour.delta_E(ref[0], ref[1], method="CIE 2000"), atol=1e-9)
    # the float32 arithmetic dE uses by default: per pixel within 1e-3 of float64
    lab32 = rgb8_to_lab(rgb, np.float32)
    np.testing.assert_allclose(ciede2000(lab32[:, 0], lab32[:, 1]), de, atol=1e-3)


def test_mss_window_is_pytorch_msssims_float32_window():
    """The 11 float32 values are torch's: numpy's float32 exp and sum round 3 of them differently."""
    torch = pytest.importorskip("torch")
    from pipeline.metrics.msssim import SIGMA, WIN, _window

    x = torch.arange(WIN, dtype=torch.float32) - WIN // 2
    g = torch.exp(-(x**2) / (2 * SIGMA**2))  # pytorch-msssim 1.0's _fspecial_gauss_1d
    np.testing.assert_array_equal(_window(), (g / g.sum()).double().numpy())


def test_worker_threads_give_the_single_thread_values(tmp_path):
    """score_triples scores images on worker threads: rows must not depend on how many."""
    import cv2

    from pipeline.metrics.scoring import Triple, score_triples

    triples = []
    for i in range(3):
        paths = [tmp_path / f"{kind}{i}.png" for kind in ("f", "a", "b")]
        for seed, path in enumerate(paths, start=10 * i):
            cv2.imwrite(str(path), _textured(seed))
        triples.append(Triple(f"s{i}", *paths))
    single = score_triples(triples, workers=1, progress=False)
    threaded = score_triples(triples[::-1], workers=3, progress=False)
    assert [r["image"] for r in threaded] == ["s0", "s1", "s2"]  # sorted by stem
    assert threaded == single  # same floats, bit for bit (no NaN in these images)


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
    """uint8 inputs skip the float64 check copy: the same values as integer-valued float64 inputs."""
    fused, ir, vis = _textured(11), _textured(12), _textured(13)
    as_uint8 = fusion_metrics(fused, ir, vis)
    as_float = fusion_metrics(fused.astype(np.float64), ir.astype(np.float64), vis.astype(np.float64))
    assert as_float == as_uint8


def test_scoring_never_imports_torch(tmp_path):
    """`ssvif metrics` starts in ~0.2 s because nothing on its path imports torch (~1.5 s)."""
    import subprocess
    import sys

    import cv2

    for kind, seed in (("ir", 1), ("vis", 2), ("fused", 3)):
        (tmp_path / kind).mkdir()
        cv2.imwrite(str(tmp_path / kind / "a.png"), _textured(seed))
    code = ("import sys; from pipeline.cli import main; "
            f"main(['metrics', '--ir', '{tmp_path / 'ir'}', '--vis', '{tmp_path / 'vis'}', '--fused', "
            f"'{tmp_path / 'fused'}', '--out', '{tmp_path / 'm.json'}'], standalone_mode=False); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False", out.stdout + out.stderr
    assert (tmp_path / "m.json").is_file()
