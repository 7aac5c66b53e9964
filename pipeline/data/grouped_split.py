"""Sequence-aware M3FD split: consecutive frames of one sequence never straddle train/val/test.

M3FD has no official split (the paper's 8:1:1 was never released) and its 4,200 detection stems
00000-04199 are contiguous: the numbering shows no sequence boundary, but neighbouring stems are often
frames of one drive a moment apart (on the real samples in shared/samples/m3fd the mean absolute
difference of 32x24 grey thumbnails is 6-13 grey levels between consecutive frames of one scene,
32-40 between scenes). The default split (:mod:`pipeline.data.splits`, random per stem) therefore puts
near-duplicates of test frames into train. This module is the option `m3fd_split.method: grouped`
(:func:`m3fd_split`); the default `random` split is :func:`pipeline.data.splits.make_split`'s, unchanged.
stages/split.py imports this module for M3FD alone (pipeline/dag/build.py adds it to split@m3fd's deps).

Grouping rule (:func:`sequence_groups`): stems in numeric order; a new group starts when the
frame number jumps by more than ``max_gap``, or when the visible thumbnails of two consecutive frames
differ by more than ``threshold`` (mean absolute difference, grey levels 0-255, of :func:`thumbnail`).
Assignment (:func:`grouped_split`): groups ranked by sha256('<seed>:<first stem>') as in
:func:`pipeline.data.splits.rank`; each group goes whole to the part furthest below its target share.

Near-duplicate (:func:`leaked`), written for either method: a test (val) frame whose sequence group,
by the rule above, holds a train frame. Why the group and not a nearest-neighbour pixel distance: it is
the leak itself (neighbouring frames of one drive), it costs one thumbnail per frame, and a global
distance threshold also flags unrelated look-alikes (dark night frames of different synthetic scenes lie
within 20 grey levels of each other) while 8 real samples are too few to calibrate a sharper one.
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping

import cv2
import numpy as np

from pipeline.data.io import read_visible
from pipeline.data.registry import DatasetSpec
from pipeline.data.splits import make_split, rank

THUMB = (32, 24)  # (width, height): M3FD's 4:3 frames; small enough to ignore small motion and noise
GROUP_THRESHOLD = 20.0  # between the 6-13 of consecutive frames and the 32-40 of scene changes (samples)
MAX_GAP = 1  # M3FD's stems are contiguous: any gap in the numbers is a sequence boundary
METHODS = ("random", "grouped")  # params `m3fd_split.method`
PARTS = ("val", "test", "train")  # tie order when two parts are equally far below their targets
GROUPING = ("frames in numeric stem order, a new group at a frame-number gap > {max_gap} or a 32x24 "
            "grey-thumbnail mean abs difference > {threshold} between consecutive frames")  # sequence_groups
RULE_GROUPED = ("M3FD grouped: " + GROUPING + "; groups ranked by sha256('<seed>:<first stem>') and each given "
                "whole to the part furthest below its share (train/val/test = {fractions})")
NEAR_DUPLICATE_RULE = "a val/test frame whose sequence group (" + GROUPING + ") holds a train frame"


def thumbnail(image: np.ndarray) -> np.ndarray:
    """32x24 grey float32 thumbnail (area average) of an RGB or grey uint8 image."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def sequence_groups(stems: Iterable[str], thumbnails: Mapping[str, np.ndarray] | None = None,
                    max_gap: int = MAX_GAP, threshold: float = GROUP_THRESHOLD) -> list[list[str]]:
    """Consecutive frames grouped by the module's rule; without ``thumbnails`` only the number gaps count."""
    ordered = sorted(set(stems), key=lambda s: (int(s), s))  # numeric: a non-numeric stem is an error
    groups: list[list[str]] = []
    for stem in ordered:
        if groups:
            prev = groups[-1][-1]
            same = int(stem) - int(prev) <= max_gap and (
                thumbnails is None or _distance(thumbnails[prev], thumbnails[stem]) <= threshold)
            if same:
                groups[-1].append(stem)
                continue
        groups.append([stem])
    return groups


def grouped_split(groups: list[list[str]], seed: int,
                  fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, list[str]]:
    """{"train", "val", "test"}: sorted stems, every group whole in one part, shares near ``fractions``."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions={fractions!r} must be three non-negative train/val/test shares summing to 1")
    by_first = {g[0]: g for g in groups}
    if len(by_first) != len(groups) or len({s for g in groups for s in g}) != sum(map(len, groups)):
        raise ValueError("groups must be disjoint and non-empty")
    n = sum(map(len, groups))
    target = dict(zip(("train", "val", "test"), (f * n for f in fractions)))
    parts: dict[str, list[str]] = {p: [] for p in ("train", "val", "test")}
    for first in rank(by_first, seed):
        part = max(PARTS, key=lambda p: (target[p] - len(parts[p]), -PARTS.index(p)))
        parts[part].extend(by_first[first])
    return {p: sorted(v) for p, v in parts.items()}


def nearest_distances(train_images: Iterable[np.ndarray], test_images: Iterable[np.ndarray],
                      chunk: int = 16) -> np.ndarray:
    """Per test image, the smallest thumbnail mean abs difference to any train image (grey levels)."""
    train = np.stack([thumbnail(im).ravel() for im in train_images])
    test = np.stack([thumbnail(im).ravel() for im in test_images])
    out = np.empty(len(test), np.float32)
    for start in range(0, len(test), chunk):  # chunks bound the (chunk, n_train, pixels) temporary
        block = test[start:start + chunk, None, :]
        out[start:start + chunk] = np.abs(block - train[None]).mean(axis=2).min(axis=1)
    return out


def near_duplicates(train_images: Iterable[np.ndarray], test_images: Iterable[np.ndarray],
                    threshold: float = GROUP_THRESHOLD) -> int:
    """How many test images have a near-duplicate in train (thumbnail distance below ``threshold``)."""
    return int((nearest_distances(train_images, test_images) < threshold).sum())


def read_thumbnails(paths: Mapping[str, str | os.PathLike]) -> dict[str, np.ndarray]:
    """{stem: :func:`thumbnail` of the visible image at its path}."""
    return {stem: thumbnail(read_visible(path)) for stem, path in paths.items()}


def leaked(groups: list[list[str]], split: Mapping[str, list[str]], part: str = "test") -> int:
    """How many frames of ``part`` have a near-duplicate in train: a train frame in their sequence group."""
    train = set(split["train"])
    leaking = {s for g in groups if train.intersection(g) for s in g}
    return sum(s in leaking for s in split[part])


def check_method(method: str) -> str:
    """``method`` if it is one of METHODS, else a ValueError naming the params key and the valid values."""
    if method not in METHODS:
        raise ValueError(f"m3fd_split.method={method!r} is not valid; valid values: {', '.join(METHODS)}")
    return method


def m3fd_split(spec: DatasetSpec, stems: list[str], thumbnails: Mapping[str, np.ndarray], seed: int,
               fractions: tuple[float, float, float], method: str) -> dict:
    """M3FD's split file content: :func:`pipeline.data.splits.make_split`'s keys plus ``method`` and
    ``near_duplicates`` (the grouping and, per method, the val and test frames that leak, :func:`leaked`).

    ``method`` ``random``: make_split's stems, unchanged; ``grouped``: :func:`grouped_split` of
    :func:`sequence_groups`. ``thumbnails``: {stem: :func:`thumbnail`} of every stem's visible image.
    """
    check_method(method)
    split = make_split(spec, {"all": stems}, seed, 0.0, fractions)  # also checks split.m3fd_fractions
    groups = sequence_groups(stems, thumbnails)
    if method == "grouped":
        fractions = tuple(float(f) for f in fractions)
        rule = RULE_GROUPED.format(max_gap=MAX_GAP, threshold=GROUP_THRESHOLD, fractions=list(fractions))
        split = {**split, "rule": rule, **grouped_split(groups, seed, fractions)}
    split["method"] = method
    split["near_duplicates"] = {
        "rule": NEAR_DUPLICATE_RULE.format(max_gap=MAX_GAP, threshold=GROUP_THRESHOLD),
        "groups": len(groups), **{f"{part}_in_train": leaked(groups, split, part) for part in ("val", "test")}}
    return split
