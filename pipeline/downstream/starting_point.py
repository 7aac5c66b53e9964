"""The starting point of a downstream fine-tune: a folder written by `weights@<target>`.

``<dir>/weights.json`` says where the weights came from (``source``: official, local,
synthetic or scratch, plus its provenance); beside it lie the weights themselves:
a transformers ``save_pretrained`` folder's files for the segmenter, ``yolo11n.pt`` for
the detector, nothing for ``scratch``. segment@ and detect@ read it through here.
"""
from __future__ import annotations

import json
from pathlib import Path

# The targets and the detector's file name live in pipeline.layout (which imports nothing from pipeline);
from pipeline.layout import DETECTOR, DETECTOR_FILE, stage_address

INFO = "weights.json"
DETECTOR_SCRATCH = "yolo11n.yaml"  # Ultralytics builds YOLO11n with random weights from its own YAML
SOURCES = ("official", "local", "synthetic", "scratch")


class StartingPointError(ValueError):
    """A starting-point folder is missing or incomplete."""


def read_info(folder: str | Path) -> dict:
    """The provenance in ``folder/weights.json``; a clear error when the weights stage never ran."""
    path = Path(folder) / INFO
    if not path.is_file():
        raise StartingPointError(f"{path} not found: run the weights stage first "
                                 f"(`dvc repro {stage_address('weights')}`).")
    info = json.loads(path.read_text())
    if info.get("source") not in SOURCES:
        raise StartingPointError(f"{path}: source {info.get('source')!r} is not one of {', '.join(SOURCES)}.")
    return info


def segmenter_folder(folder: str | Path) -> Path | None:
    """The save_pretrained folder to initialise SegFormer from; None for scratch."""
    return None if read_info(folder)["source"] == "scratch" else Path(folder)


def detector_init(folder: str | Path) -> str:
    """What Ultralytics builds YOLO11n from: the starting .pt, or its YAML for scratch."""
    if read_info(folder)["source"] == "scratch":
        return DETECTOR_SCRATCH
    weights = Path(folder) / DETECTOR_FILE
    if not weights.is_file():
        raise StartingPointError(f"{weights} is missing: re-run `dvc repro {stage_address('weights', DETECTOR)}`.")
    return str(weights)


def summary(info: dict) -> dict:
    """The short provenance every output JSON records (`init`)."""
    keep = ("source", "kind", "file", "sha256", "url", "trained_on", "classifier_reinitialised")
    return {k: info[k] for k in keep if k in info}
