"""Imaging conditions: exact for synthetic data, from MSRS's D/N names, unknown otherwise."""
from __future__ import annotations

from pipeline.data.conditions import UNKNOWN, conditions_document, conditions_from_names, group_by_condition
from pipeline.data.io import read_visible
from pipeline.data.raw_layout import pair_paths
from pipeline.data.registry import DATASETS
from pipeline.data.dataset_sources import fetch_synthetic


def test_msrs_names_give_day_and_night_other_datasets_unknown():
    assert conditions_from_names("msrs", ["00001D", "00002N", "odd"]) == {"00001D": "day", "00002N": "night",
                                                                         "odd": UNKNOWN}
    assert set(conditions_from_names("fmb", ["00001", "00002"]).values()) == {UNKNOWN}


def test_synthetic_conditions_are_the_scenes_own(tmp_path):
    spec = DATASETS["fmb"]
    _, conditions = fetch_synthetic(spec, tmp_path / "fmb", 0, {"train": 12, "test": 4, "height": 48, "width": 64})
    assert len(conditions) == 16 and set(conditions.values()) <= {"day", "night", "fog"}
    brightness = {c: [] for c in ("day", "night", "fog")}
    for stem, condition in conditions.items():
        group = "test" if int(stem) > 12 else "train"
        brightness[condition].append(read_visible(pair_paths(spec, tmp_path / "fmb", stem, group)["vis"]).mean())
    # Night scenes are the dark ones: the label says what the pixels show.
    assert brightness["night"] and max(brightness["night"]) < min(brightness["day"] + brightness["fog"])


def test_document_counts_and_grouping_keep_condition_order():
    doc = conditions_document("msrs", "official", {"00002N": "night", "00001D": "day"})
    assert doc["counts"] == {"day": 1, "night": 1, "fog": 0, UNKNOWN: 0} and "D = day" in doc["rule"]
    assert list(doc["conditions"]) == ["00001D", "00002N"]
    assert group_by_condition(["a", "b", "c"], {"a": "night", "b": "day", "c": UNKNOWN}) == {"day": ["b"],
                                                                                          "night": ["a"]}
