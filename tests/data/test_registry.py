"""Registry facts, frozen from docs/datasets.md and cross-checked against its text."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.data.registry import DATASETS, get_dataset

MSRS_CLASSES = ("unlabelled", "car", "person", "bike", "curve", "car_stop", "guardrail", "color_cone", "bump")
FMB_CLASSES = ("background", "Road", "Sidewalk", "Building", "Lamp", "Sign", "Vegetation", "Sky", "Person", "Car",
               "Truck", "Bus", "Motorcycle", "Bicycle", "Pole")


def test_classes_and_counts():
    assert DATASETS["msrs"].classes == MSRS_CLASSES and DATASETS["msrs"].num_classes == 9
    assert DATASETS["fmb"].classes == FMB_CLASSES and DATASETS["fmb"].num_classes == 15
    assert set(DATASETS["m3fd"].classes) == {"People", "Car", "Bus", "Motorcycle", "Lamp", "Truck"}
    assert DATASETS["msrs"].official_counts == {"train": 1083, "test": 361}
    assert DATASETS["fmb"].official_counts == {"train": 1220, "test": 280}
    assert DATASETS["m3fd"].official_counts == {"all": 4200}


@pytest.mark.parametrize("name", list(DATASETS))
def test_palette_matches_classes(name):
    spec = DATASETS[name]
    assert len(spec.palette) == spec.num_classes
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in spec.palette)


def test_layouts():
    assert DATASETS["msrs"].folders == {"ir": "ir", "vis": "vi", "label": "Segmentation_labels"}
    assert DATASETS["fmb"].folders == {"ir": "Infrared", "vis": "Visible", "label": "Label"}
    assert DATASETS["m3fd"].folders == {"ir": "Ir", "vis": "Vis", "annotation": "Annotation"}
    assert DATASETS["m3fd"].root_subdir == "M3FD_Detection" and DATASETS["m3fd"].official_splits == ()


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(KeyError, match="msrs, fmb, m3fd"):
        get_dataset("kaist")


def test_against_reference_text():
    text = (Path(__file__).resolve().parents[2] / "docs" / "datasets.md").read_text()
    msrs_palette = " ".join(f"({r},{g},{b})" for r, g, b in DATASETS["msrs"].palette)
    fmb_palette = " ".join(f"({r},{g},{b})" for r, g, b in DATASETS["fmb"].palette)
    assert msrs_palette in text and fmb_palette in text
    assert ", ".join(f"{i} {c}" for i, c in enumerate(MSRS_CLASSES)) in text
    assert ", ".join(f"{i} {c}" for i, c in enumerate(FMB_CLASSES)) in text
    assert "People, Car, Bus, Motorcycle, Lamp, Truck" in text  # README order = registry order
    assert ", ".join(DATASETS["m3fd"].classes) in text
    for spec in DATASETS.values():
        for archive in spec.sources:
            for digest in (archive.md5, archive.sha256, archive.gdrive_id):
                if digest:
                    assert digest in text, (spec.name, archive.filename)
    assert re.search(r"5fa66e33c5ba875eec4de4f5a5bf609bdcc566c5", text)
    assert all(not a.official for a in DATASETS["fmb"].sources)  # the only scriptable FMB source is a mirror
