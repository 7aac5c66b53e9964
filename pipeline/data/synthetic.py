"""Synthetic MSRS, FMB and M3FD in their official layouts and file naming.

Scene ``i`` of a dataset is drawn from ``numpy.random.default_rng([seed, dataset code, i])``
(M3FD: the sequence of near-duplicate frames starting at frame ``i``): the bytes depend on the
seed, the dataset, the index and the size only (not on the other counts), so the same params
always give the same files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_write_bytes
from pipeline.data.io import encode_png
from pipeline.data.raw_layout import group_dir
from pipeline.data.registry import DatasetSpec
from pipeline.data.synthetic_scene import ELEMENT_CLASSES, class_lut, render_scene, visible_boxes
from pipeline.data.voc import voc_xml

DATASET_CODES = {"msrs": 1, "fmb": 2, "m3fd": 3}
PNG_LEVEL = 1  # fast compression; PNG is lossless, so the pixels are the same at any level
MSRS_RGB_IR_EVERY = 4  # every 4th MSRS infrared file is stored 3-channel, as in some MSRS copies
M3FD_SMALL_SHARE = 0.1  # share of M3FD sequences at a smaller size (the real set mixes nine sizes)
# M3FD's consecutive stems are often frames of one drive a moment apart (pipeline/data/grouped_split.py):
# the synthetic set is sequences of 1-8 frames (the real samples show runs of 6), each frame the scene
# panned by 0.8 % of the width and fresh sensor noise (std in grey levels); near-duplicates, as the real ones.
M3FD_SEQUENCE = (1, 8)
M3FD_PAN = 0.008
M3FD_FRAME_NOISE = 2.0


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


def _frames(scene, length: int, width: int, step: int, rng: np.random.Generator):
    """(vis, ir, boxes) of ``length`` frames of one scene rendered ``(length - 1) * step`` px wider: frame f
    is the window at x = f * step (a camera pan) plus fresh sensor noise, its boxes from the instance crop."""
    for f in range(length):
        window = np.s_[:, f * step:f * step + width]
        vis = scene.vis[window] + rng.normal(0, M3FD_FRAME_NOISE, scene.vis[window].shape[:2] + (1,))
        ir = scene.ir[window] + rng.normal(0, M3FD_FRAME_NOISE, scene.ir[window].shape)
        yield (np.clip(vis + 0.5, 0, 255).astype(np.uint8), np.clip(ir + 0.5, 0, 255).astype(np.uint8),
               visible_boxes(scene.instances[window], scene.kinds))


def _sequence_head(rng: np.random.Generator, height: int, width: int) -> tuple[int, int, int]:
    """(height, width, frames) of an M3FD sequence: the first draws of its ``scene_rng``."""
    h, w = height, width
    if rng.random() < M3FD_SMALL_SHARE:
        h, w = max(8, round(height * 0.92 / 8) * 8), max(8, round(width * 0.92 / 8) * 8)
    return h, w, int(rng.integers(M3FD_SEQUENCE[0], M3FD_SEQUENCE[1] + 1))


def m3fd_sequences(seed: int, count: int) -> list[list[str]]:
    """The stems of each synthetic M3FD sequence, in order (what a sequence-aware split should keep whole)."""
    sequences, index = [], 0
    while index < count:
        length = _sequence_head(scene_rng(seed, "m3fd", index), 16, 16)[2]  # the length is drawn after the size
        sequences.append([f"{i:05d}" for i in range(index, min(index + length, count))])
        index += length
    return sequences


def _detection(spec: DatasetSpec, root: Path, seed: int, count: int, height: int, width: int):
    """M3FD as short sequences of near-duplicate frames, as the real set's consecutive stems are: a
    sequence starting at frame ``i`` draws its size, length and scene from ``scene_rng(seed, m3fd, i)``,
    so frame ``i``'s bytes depend on the seed, its index and the size only (never on ``count``)."""
    base = group_dir(spec, root, "all")
    names = ELEMENT_CLASSES[spec.name]
    boxes_total = {name: 0 for name in spec.classes}
    nights, conditions = 0, {}
    index = 0
    while index < int(count):
        rng = scene_rng(seed, spec.name, index)
        h, w, length = _sequence_head(rng, height, width)
        step = max(1, round(M3FD_PAN * w))
        scene = render_scene(spec.name, rng, h, w + (length - 1) * step)
        for vis, ir, frame_boxes in _frames(scene, length, w, step, rng):
            if index >= int(count):  # the last sequence is cut short; its frames are as if it were not
                break
            nights += scene.condition == "night"
            stem = f"{index:05d}"  # M3FD stems run 00000..04199
            conditions[stem] = scene.condition
            boxes = [(names[k], x0, y0, x1, y1) for k, x0, y0, x1, y1 in frame_boxes if k in names]
            for box in boxes:
                boxes_total[box[0]] += 1
            # M3FD stores infrared as 3-channel equal gray.
            _write(base / spec.folders["ir"] / f"{stem}.png", np.repeat(ir[..., None], 3, axis=2))
            _write(base / spec.folders["vis"] / f"{stem}.png", vis)
            atomic_write_bytes(base / spec.folders["annotation"] / f"{stem}.xml",
                               voc_xml(f"{stem}.png", w, h, boxes, folder=spec.root_subdir).encode())
            index += 1
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
