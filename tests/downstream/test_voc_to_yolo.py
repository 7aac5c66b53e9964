"""VOC XML -> YOLO txt on the real M3FD samples; classes by name."""
from __future__ import annotations

import pytest

from pipeline.downstream.voc_to_yolo import M3FD_CLASSES, convert_annotation, yolo_lines


def test_sample_00000_boxes_by_hand(shared_dir):
    xml = shared_dir / "samples/m3fd/M3FD_Detection/Annotation/00000.xml"
    width, height, text = convert_annotation(xml)
    lines = text.splitlines()
    assert (width, height) == (1024, 768)
    assert len(lines) == 11  # 4 People + 7 Car objects in the file
    # People (46, 372, 82, 478): centre (64, 425), size 36 x 106 on 1024 x 768.
    assert lines[0] == "0 0.062500 0.553385 0.035156 0.138021"
    # Car (1, 358, 53, 437): centre (27, 397.5), size 52 x 79.
    assert lines[4] == "1 0.026367 0.517578 0.050781 0.102865"


def test_every_sample_converts_within_unit_box(shared_dir):
    files = sorted((shared_dir / "samples/m3fd/M3FD_Detection/Annotation").glob("*.xml"))
    assert len(files) == 8
    for xml in files:
        _, _, text = convert_annotation(xml)
        for line in text.splitlines():
            cls, *coords = line.split()
            assert 0 <= int(cls) < len(M3FD_CLASSES)
            assert all(0.0 <= float(v) <= 1.0 for v in coords)


def test_class_index_comes_from_the_name_in_official_order():
    assert M3FD_CLASSES == ("People", "Car", "Bus", "Motorcycle", "Lamp", "Truck")
    boxes = [(name, 0, 0, 10, 10) for name in ("Truck", "Lamp", "Motorcycle", "Bus", "Car", "People")]
    assert [int(line.split()[0]) for line in yolo_lines(100, 100, boxes)] == [5, 4, 3, 2, 1, 0]


def test_unknown_class_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown class 'Bicycle'.*People"):
        yolo_lines(100, 100, [("Bicycle", 0, 0, 10, 10)], source="a.xml")


def test_boxes_are_clipped_and_empty_ones_dropped():
    lines = yolo_lines(100, 50, [("Car", -10, 10, 30, 60), ("Car", 120, 0, 130, 10)])
    assert lines == ["1 0.150000 0.600000 0.300000 0.800000"]
