"""Synthetic MSRS, FMB and M3FD in their official layouts and file naming.

Scene ``i`` of a dataset is drawn from ``numpy.random.default_rng([seed, dataset code, i])``:
the bytes depend on the seed, the dataset, the index and the size only (not on the other
counts), so the same params always give the same files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_write_bytes
from pipeline.data.io import encode_png
from pipeline.data.raw_layout import group_dir
from pipeline.data.registry import DatasetSpec
from pipeline.data.synthetic_scene import ELEMENT_CLASSES, class_lut, render_scene
from pipeline.data.voc import voc_xml

DATASET_CODES = {"msrs": 1, "fmb": 2, "m3fd": 3}
PNG_LEVEL = 1  # fast compression; PNG is lossless, so the pixels are the same at any level
MSRS_RGB_IR_EVERY = 4  # every 4th MSRS infrared file is stored 3-channel, as in some MSRS copies
M3FD_SMALL_SHARE = 0.1  # share of M3FD images at a smaller size (the real set mixes nine sizes)


def _write(path: Path, array: np.ndarray) -> None:
    atomic_write_bytes(path, encode_png(array, PNG_LEVEL))


def _colour_rendering(label: np.ndarray, palette) -> np.ndarray:
    lut = np.zeros((256, 3), np.uint8)
    lut[: len(palette)] = palette
    return lut[label]


def scene_rng(seed: int, dataset: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, DATASET_CODES[dataset], index])


def _segmentation(spec: DatasetSpec, root: Path, seed: int, counts: dict[str, int], height: int, width: int):
    lut = class_lut(spec.name, spec.classes)
    index = 0
    summary, conditions = {}, {}
    for group in spec.official_splits:
        base = group_dir(spec, root, group)
        nights = 0
        for _ in range(int(counts[group])):
            scene = render_scene(spec.name, scene_rng(seed, spec.name, index), height, width)
            night = scene.condition == "night"
            nights += night
            # Stems unique across splits: MSRS NNNNN{D|N} (D day, N night), FMB NNNNN.
            stem = f"{index + 1:05d}{'N' if night else 'D'}" if spec.name == "msrs" else f"{index + 1:05d}"
            conditions[stem] = scene.condition
            label = lut[scene.elements]
            ir = scene.ir
            if spec.name == "msrs" and index % MSRS_RGB_IR_EVERY == MSRS_RGB_IR_EVERY - 1:
                ir = np.repeat(ir[..., None], 3, axis=2)
            _write(base / spec.folders["ir"] / f"{stem}.png", ir)
            _write(base / spec.folders["vis"] / f"{stem}.png", scene.vis)
            _write(base / spec.folders["label"] / f"{stem}.png", label)
            if group in spec.renderings:
                _write(base / spec.renderings[group] / f"{stem}.png", _colour_rendering(label, spec.palette))
            index += 1
        summary[group] = {"pairs": int(counts[group]), "night": int(nights)}
    return summary, conditions


def _detection(spec: DatasetSpec, root: Path, seed: int, count: int, height: int, width: int):
    base = group_dir(spec, root, "all")
    names = ELEMENT_CLASSES[spec.name]
    boxes_total = {name: 0 for name in spec.classes}
    nights, conditions = 0, {}
    for index in range(int(count)):
        rng = scene_rng(seed, spec.name, index)
        h, w = height, width
        if rng.random() < M3FD_SMALL_SHARE:
            h, w = max(8, round(height * 0.92 / 8) * 8), max(8, round(width * 0.92 / 8) * 8)
        scene = render_scene(spec.name, rng, h, w)
        nights += scene.condition == "night"
        stem = f"{index:05d}"  # M3FD stems run 00000..04199
        conditions[stem] = scene.condition
        boxes = [(names[k], x0, y0, x1, y1) for k, x0, y0, x1, y1 in scene.boxes if k in names]
        for box in boxes:
            boxes_total[box[0]] += 1
        # M3FD stores infrared as 3-channel equal gray.
        _write(base / spec.folders["ir"] / f"{stem}.png", np.repeat(scene.ir[..., None], 3, axis=2))
        _write(base / spec.folders["vis"] / f"{stem}.png", scene.vis)
        atomic_write_bytes(base / spec.folders["annotation"] / f"{stem}.xml",
                           voc_xml(f"{stem}.png", w, h, boxes, folder=spec.root_subdir).encode())
    return {"all": {"pairs": int(count), "night": int(nights), "boxes": boxes_total}}, conditions


def generate_dataset(spec: DatasetSpec, root: str | Path, seed: int, size: dict) -> tuple[dict, dict[str, str]]:
    """Write a synthetic ``spec`` dataset under ``root`` in its official layout.

    ``size``: the params block ``<profile>.synthetic.<dataset>``: ``train``, ``test`` (MSRS, FMB) or
    ``count`` (M3FD), and ``height``, ``width`` in pixels. Returns (per-group counts, {stem: condition}).
    """
    root = Path(root)
    for key in ("height", "width"):
        if int(size.get(key, 0)) < 16:
            raise ValueError(f"synthetic.{spec.name}.{key}={size.get(key)!r}: need an image side of at least 16 px")
    if spec.task == "segmentation":
        missing = [g for g in spec.official_splits if g not in size]
        if missing:
            raise ValueError(f"synthetic.{spec.name} needs counts for {missing}")
        return _segmentation(spec, root, seed, size, int(size["height"]), int(size["width"]))
    if "count" not in size:
        raise ValueError(f"synthetic.{spec.name} needs `count`")
    return _detection(spec, root, seed, int(size["count"]), int(size["height"]), int(size["width"]))
