"""Every name a stage accepts on its command line comes from the registries, and dvc.yaml passes only those."""
from __future__ import annotations

import importlib
from pathlib import Path

import click
import pytest

from pipeline.data.registry import DATASETS
from pipeline.rules.names import RULE_NAMES
from pipeline.dag import files as dag
from pipeline import params as _params

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("fetch", "split", "train", "fuse", "fuse_rule", "weights", "fusion_metrics", "segment", "detect")
# Fusion metrics and segmentation are scored on the segmentation datasets only.
SEGMENTATION_ONLY = {"fusion_metrics", "segment"}


def _choices(name: str) -> dict[str, list[str]]:
    command = importlib.import_module(f"stages.{name}").main
    return {p.name: list(p.type.choices) for p in command.params if isinstance(p.type, click.Choice)}


@pytest.mark.parametrize("name", STAGES)
def test_choices_are_the_registries(name):
    choices = _choices(name)
    if "dataset" in choices:
        expected = _params.RUN_DATASETS if name in SEGMENTATION_ONLY else tuple(DATASETS)
        assert choices["dataset"] == list(expected)
        assert set(_params.RUN_DATASETS) == {n for n, s in DATASETS.items() if s.task == "segmentation"}
    if "rule" in choices:
        assert choices["rule"] == list(RULE_NAMES)
    assert set(choices) <= {"dataset", "rule", "target"}


@pytest.mark.parametrize("name", STAGES)
def test_dvc_yaml_passes_only_accepted_names(name):
    stage = dag.build(_params.load_params(ROOT / "params.yaml"))["stages"][name]
    items = stage.get("foreach")
    choices = _choices(name)
    values = items if isinstance(items, list) else list(items.values())
    for item in values:
        for option, valid in choices.items():
            value = item if isinstance(item, str) else item.get(option)
            if value is not None and option in ("dataset", "rule", "target"):
                assert value in valid, (name, option, value)
