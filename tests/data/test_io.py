"""Readers, VOC parser and validation on real sample files (../shared/samples)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import ImageReadError, read_infrared, read_label, read_visible, write_png
from pipeline.data.registry import DATASETS
from pipeline.data.validate import validate_dataset
from pipeline.data.voc import read_voc, voc_xml


def test_msrs_infrared_is_gray_whatever_its_channels(shared_dir):
    ir_dir = shared_dir / "samples" / "msrs" / "test" / "ir"
    assert Image.open(ir_dir / "00016N.png").mode == "L"
    assert Image.open(ir_dir / "00036N.png").mode == "RGB"
    for stem in ("00016N", "00036N"):
        ir = read_infrared(ir_dir / f"{stem}.png")
        vis = read_visible(ir_dir.parent / "vi" / f"{stem}.png")
        assert ir.shape == (480, 640) and ir.dtype == np.uint8
        assert vis.shape == (480, 640, 3) and vis.dtype == np.uint8
    rgb = np.asarray(Image.open(ir_dir / "00036N.png"))
    assert np.array_equal(read_infrared(ir_dir / "00036N.png"), rgb[..., 0])  # equal channels stay exact


def test_read_voc_real_m3fd(shared_dir):
    width, height, boxes = read_voc(shared_dir / "samples" / "m3fd" / "M3FD_Detection" / "Annotation" / "00000.xml")
    assert (width, height) == (1024, 768)
    assert len(boxes) == 11 and boxes[0] == ("People", 46, 372, 82, 478)
    assert {b[0] for b in boxes} == {"People", "Car"}


def test_voc_writer_reproduces_real_file(shared_dir):
    path = shared_dir / "samples" / "m3fd" / "M3FD_Detection" / "Annotation" / "00000.xml"
    width, height, boxes = read_voc(path)
    assert voc_xml("00000.png", width, height, boxes) == path.read_text()


def test_real_m3fd_samples_validate(shared_dir):
    stems = validate_dataset(DATASETS["m3fd"], shared_dir / "samples" / "m3fd")
    assert stems == {"all": ["00000", "00001", "00002", "00003", "00004", "00005", "00111", "00112"]}


def test_label_reader_rejects_colour_rendering(tmp_path):
    write_png(tmp_path / "rgb.png", np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(ImageReadError, match="rendering"):
        read_label(tmp_path / "rgb.png")
    palette = Image.fromarray(np.array([[0, 3], [7, 255]], np.uint8), mode="L").convert("P")
    palette.save(tmp_path / "p.png")
    assert read_label(tmp_path / "p.png").tolist() == [[0, 3], [7, 255]]


def test_write_png_roundtrip_and_undecodable_file(tmp_path):
    array = np.arange(60, dtype=np.uint8).reshape(4, 5, 3)
    write_png(tmp_path / "a.png", array)
    assert np.array_equal(read_visible(tmp_path / "a.png"), array)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="bad.png"):
        read_infrared(tmp_path / "bad.png")
