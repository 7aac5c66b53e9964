"""`ssvif metrics` on tiny temp folders: outputs, and the errors a user meets."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.metrics.command import metrics

SIZE = (168, 170)  # H, W: above MS-SSIM's minimum


def _write(folder, stem, array, suffix=".png"):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(folder / f"{stem}{suffix}")


@pytest.fixture
def dirs(tmp_path):
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        _write(tmp_path / "ir", stem, rng.integers(0, 256, SIZE, dtype=np.uint8))
        _write(tmp_path / "vis", stem, rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8))
        _write(tmp_path / "fused", stem, rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8))
    return tmp_path


def _run(d, *extra):
    args = ["--ir", str(d / "ir"), "--vis", str(d / "vis"), "--fused", str(d / "fused"), *extra]
    return CliRunner().invoke(metrics, args)


def test_writes_mean_json_and_per_image_csv(dirs):
    result = _run(dirs, "--out", str(dirs / "out" / "m.json"))
    assert result.exit_code == 0, result.output
    summary = json.loads((dirs / "out" / "m.json").read_text())
    assert summary["count"] == 2 and summary["nan_counts"]["Qabf"] == 0
    rows = list(csv.DictReader((dirs / "out" / "m.csv").open()))
    assert [r["image"] for r in rows] == ["a", "b"]
    assert summary["EN"] == pytest.approx(np.mean([float(r["EN"]) for r in rows]), abs=1e-6)
    again = _run(dirs, "--out", str(dirs / "out" / "m2.json"))
    assert again.exit_code == 0
    assert (dirs / "out" / "m2.json").read_bytes() == (dirs / "out" / "m.json").read_bytes()  # deterministic


def test_unpaired_file_is_an_error(dirs):
    _write(dirs / "fused", "c", np.zeros((*SIZE, 3), np.uint8))
    result = _run(dirs)
    assert result.exit_code != 0 and "unpaired" in result.output and "'c'" in result.output


def test_size_mismatch_is_an_error(dirs):
    _write(dirs / "fused", "b", np.zeros((SIZE[0] + 2, SIZE[1], 3), np.uint8))
    result = _run(dirs)
    assert result.exit_code != 0 and "size mismatch" in result.output and "b.png" in result.output


def test_unreadable_image_is_an_error(dirs):
    (dirs / "fused" / "b.png").write_bytes(b"not a png")
    result = _run(dirs)
    assert result.exit_code != 0 and "b.png" in result.output and "cannot read" in result.output


def test_jpeg_fused_images_warn(dirs):
    for stem in ("a", "b"):
        image = Image.open(dirs / "fused" / f"{stem}.png")
        (dirs / "fused" / f"{stem}.png").unlink()
        image.save(dirs / "fused" / f"{stem}.jpg")
    result = CliRunner(mix_stderr=False).invoke(
        metrics, ["--ir", str(dirs / "ir"), "--vis", str(dirs / "vis"), "--fused", str(dirs / "fused")]
    ) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else _run(dirs)
    assert result.exit_code == 0, result.output
    assert "JPEG" in (result.stderr if hasattr(result, "stderr") else result.output)
    assert json.loads(result.stdout)["count"] == 2
