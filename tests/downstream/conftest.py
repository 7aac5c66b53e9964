"""Tiny synthetic inputs for the downstream stages, written in the official layouts."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def make_segmentation_inputs(root: Path, dataset: str = "fmb", counts=(6, 2, 2), size=(48, 64), seed=0):
    """raw/<dataset> (official layout), fused/<dataset> (one PNG per stem) and a split file.

    Each image is a dark background with a few coloured rectangles; the label marks them
    with a class chosen by colour, so a model can learn it. Returns (raw, fused, split_file).
    """
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS

    spec, rng = DATASETS[dataset], np.random.default_rng(seed)
    raw, fused = root / "raw" / dataset, root / "fused" / dataset
    split = {"dataset": dataset, "seed": seed, "rule": "test fixture"}
    index = 0
    for part, count in zip(("train", "val", "test"), counts):
        split[part] = []
        for _ in range(count):
            stem = f"{index:05d}" + ("D" if dataset == "msrs" else "")
            index += 1
            h, w = size
            image = np.full((h, w, 3), 20, np.uint8)
            label = np.zeros((h, w), np.uint8)
            for cls in rng.choice(np.arange(1, 4), size=2, replace=False):
                y, x = rng.integers(0, h - 16), rng.integers(0, w - 16)
                image[y:y + 16, x:x + 16] = spec.palette[cls]
                label[y:y + 16, x:x + 16] = cls
            paths = pair_paths(spec, raw, stem, part)
            _png(paths["vis"], image)
            _png(paths["ir"], image.mean(2).astype(np.uint8))
            _png(paths["label"], label)
            _png(fused / f"{stem}.png", image)
            split[part].append(stem)
        split[part].sort()
    split_file = root / "splits" / f"{dataset}.json"
    split_file.parent.mkdir(parents=True, exist_ok=True)
    split_file.write_text(json.dumps(split))
    return raw, fused, split_file


@pytest.fixture
def seg_inputs(tmp_path):
    return make_segmentation_inputs(tmp_path)


def make_detection_inputs(root: Path, counts=(8, 2, 2), size=(64, 96), seed=0):
    """raw/m3fd (official layout, VOC XML), fused/m3fd and splits/m3fd.json with coloured boxes per class.

    Returns (raw, fused, split_file).
    """
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS
    from pipeline.data.voc import write_voc

    spec, rng = DATASETS["m3fd"], np.random.default_rng(seed)
    raw, fused = root / "raw" / "m3fd", root / "fused" / "m3fd"
    split = {"dataset": "m3fd", "seed": seed, "rule": "test fixture"}
    colours = [(255, 60, 60), (60, 60, 255), (60, 255, 60), (255, 255, 60), (255, 60, 255), (60, 255, 255)]
    index = 0
    for part, count in zip(("train", "val", "test"), counts):
        split[part] = []
        for _ in range(count):
            stem = f"{index:05d}"
            index += 1
            h, w = size
            image = np.full((h, w, 3), 30, np.uint8)
            boxes = []
            for cls in rng.choice(6, size=2, replace=False):
                bh, bw = rng.integers(h // 5, h // 3), rng.integers(w // 6, w // 3)
                y, x = rng.integers(0, h - bh), rng.integers(0, w - bw)
                image[y:y + bh, x:x + bw] = colours[cls]
                boxes.append((spec.classes[cls], float(x), float(y), float(x + bw), float(y + bh)))
            paths = pair_paths(spec, raw, stem, part)
            _png(paths["vis"], image)
            _png(paths["ir"], image.mean(2).astype(np.uint8))
            write_voc(paths["annotation"], w, h, boxes)
            _png(fused / f"{stem}.png", image)
            split[part].append(stem)
        split[part].sort()
    split_file = root / "splits" / "m3fd.json"
    split_file.parent.mkdir(parents=True, exist_ok=True)
    split_file.write_text(json.dumps(split))
    return raw, fused, split_file


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_params(tmp_path, monkeypatch):
    """params.yaml of the repo with tiny `quick.segment` / `quick.detect` blocks, used via DVC_ROOT.

    Returns a function ``edit(segment=..., detect=...)`` merging overrides, then writing the file.
    """
    import yaml

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["profile"] = "quick"
    params["quick"]["segment"].update(epochs=2, freeze_epochs=1, batch=2, crop=32, patience=1,
                                      encoder=dict(hidden_sizes=[8, 8, 16, 16], depths=[1, 1, 1, 1],
                                                   num_attention_heads=[1, 1, 1, 1], decoder_hidden_size=16))
    params["quick"]["detect"].update(epochs=1, imgsz=64, batch=4, workers=0, extra={})
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("DVC_ROOT", str(root))

    params["quick"]["weights"]["segmenter"]["standin"].update(epochs=2, batch=4, lr=3e-3, patience=2, crop=32)
    params["quick"]["weights"]["detector"]["standin"].update(epochs=1, imgsz=64, batch=4, extra={})

    def edit(segment=None, detect=None, **top):
        params["quick"]["segment"].update(segment or {})
        params["quick"]["detect"].update(detect or {})
        for dotted, value in top.items():  # e.g. paper__weights__source="official"
            *parents, last = dotted.split("__")
            node = params
            for part in parents:
                node = node[part]
            node[last] = value
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        return params

    edit()
    return edit


def starting_point(folder: Path, source: str = "scratch", files: dict | None = None) -> Path:
    """A weights@ output folder: weights.json with ``source`` and any ``files`` {name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.json").write_text(json.dumps({"source": source}))
    for name, data in (files or {}).items():
        (folder / name).write_bytes(data)
    return folder


def conditions_file(path: Path, split_file: Path, dataset: str) -> Path:
    """data/conditions/<dataset>.json for a fixture split: alternately day and night."""
    from pipeline.data.conditions import conditions_document

    stems = sorted(s for part in ("train", "val", "test") for s in json.loads(split_file.read_text())[part])
    path.write_text(json.dumps(conditions_document(dataset, "synthetic",
                                                   {s: ("day", "night")[i % 2] for i, s in enumerate(stems)})))
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test, even if the caller swallows the error."""
    import socket
    import traceback

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:] if args else kwargs) + "\n" + "".join(f for f in traceback.format_stack() if "ultralytics" in f or "pipeline" in f))
        raise AssertionError(f"network access attempted: {attempts[-1]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == [], f"network access attempted: {attempts}"


@pytest.fixture
def det_inputs(tmp_path):
    return make_detection_inputs(tmp_path)


@pytest.fixture
def yolo_env(monkeypatch):
    """Restore Ultralytics' environment variables after the test (configure_offline sets them)."""
    for name in ("YOLO_OFFLINE", "YOLO_AUTOINSTALL", "YOLO_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv(name, "true" if name == "YOLO_OFFLINE" else "")
