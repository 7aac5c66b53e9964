"""The local source: validated in place (clear errors) and linked, not copied."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.data.io import write_png
from pipeline.data.registry import DATASETS
from pipeline.data.dataset_sources import link_local
from pipeline.data.validate import DatasetError


def test_valid_copy_is_linked(tiny, tmp_path):
    source = tiny("fmb")
    out = tmp_path / "raw" / "fmb"
    assert link_local(DATASETS["fmb"], source, out) == {"train": {"pairs": 4}, "test": {"pairs": 2}}
    assert out.is_symlink() and out.resolve() == source.resolve()


def test_missing_partner_is_named(tiny, tmp_path):
    source = tiny("msrs")
    victim = sorted((source / "train" / "vi").iterdir())[0]
    victim.unlink()
    with pytest.raises(DatasetError, match=f"{victim.name} is missing") as error:
        link_local(DATASETS["msrs"], source, tmp_path / "raw")
    assert str(source / "train" / "ir" / victim.name) in str(error.value)
    assert not (tmp_path / "raw").exists()


def test_size_mismatch_is_named(tiny, tmp_path):
    source = tiny("msrs")
    victim = sorted((source / "test" / "ir").iterdir())[0]
    write_png(victim, np.zeros((10, 10), np.uint8))
    with pytest.raises(DatasetError, match="size mismatch") as error:
        link_local(DATASETS["msrs"], source, tmp_path / "raw")
    assert str(victim) in str(error.value)


def test_label_out_of_range_is_named(tiny, tmp_path):
    source = tiny("fmb")
    victim = sorted((source / "train" / "Label").iterdir())[0]
    write_png(victim, np.full((48, 64), 15, np.uint8))
    with pytest.raises(DatasetError, match=r"label values \[15\] out of range 0\.\.14") as error:
        link_local(DATASETS["fmb"], source, tmp_path / "raw")
    assert str(victim) in str(error.value)


def test_m3fd_unknown_class_and_empty_setting(tiny, tmp_path):
    source = tiny("m3fd")
    xml = sorted((source / "M3FD_Detection" / "Annotation").iterdir())[0]
    xml.write_text(xml.read_text().replace("<size>", "<object><name>Dog</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                                           "<xmax>5</xmax><ymax>5</ymax></bndbox></object><size>"))
    with pytest.raises(DatasetError, match="unknown class 'Dog'"):
        link_local(DATASETS["m3fd"], source, tmp_path / "raw")
    with pytest.raises(DatasetError, match="data.local.m3fd is empty"):
        link_local(DATASETS["m3fd"], "", tmp_path / "raw")
