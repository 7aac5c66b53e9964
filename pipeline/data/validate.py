"""Validation shared by every source (synthetic, official, local).

Pairs are matched by file stem (never by list order); every image is decoded (infrared
as gray, visible as RGB); sizes must agree within a pair; label values must be class
indices or 255 (ignore); M3FD boxes must name a known class and lie inside the image.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pipeline.data.io import ImageReadError, read_infrared, read_label, read_visible
from pipeline.data.raw_layout import file_suffix, group_dir, groups
from pipeline.data.registry import DatasetSpec
from pipeline.data.voc import AnnotationError, read_voc

MAX_LISTED = 20  # problems listed in one error message


class DatasetError(ValueError):
    """The dataset on disk is incomplete or inconsistent; the message lists the files."""


def _raise(spec: DatasetSpec, root: Path, problems: list[str]) -> None:
    listed = "\n  ".join(problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    raise DatasetError(
        f"{spec.name} at {root}: {len(problems)} problem(s):\n  {listed}{more}\n"
        f"Fix or replace these files (re-download, re-extract, or remove the unpaired ones). {spec.manual}")


def _stems(folder: Path, suffix: str) -> set[str]:
    return {p.stem for p in folder.iterdir() if p.suffix.lower() == suffix and not p.name.startswith(".")}


def list_stems(spec: DatasetSpec, root: str | Path) -> dict[str, list[str]]:
    """Sorted stems of each official group, after checking that every modality has the same stems."""
    root = Path(root)
    problems: list[str] = []
    result: dict[str, list[str]] = {}
    for group in groups(spec):
        base = group_dir(spec, root, group)
        per_key: dict[str, set[str]] = {}
        for key, folder in spec.folders.items():
            if not (base / folder).is_dir():
                problems.append(f"folder {base / folder} is missing (expected the official layout)")
                continue
            per_key[key] = _stems(base / folder, file_suffix(key))
        if len(per_key) < len(spec.folders):
            continue
        union = set().union(*per_key.values())
        for key, stems in per_key.items():
            for stem in sorted(union - stems):
                have = [str(base / spec.folders[k] / f"{stem}{file_suffix(k)}") for k in per_key if stem in per_key[k]]
                problems.append(f"{base / spec.folders[key] / (stem + file_suffix(key))} is missing "
                                f"(its partner {', '.join(have)} exists)")
        if not union:
            problems.append(f"{base} holds no pairs")
        result[group] = sorted(set.intersection(*per_key.values()))
    if len(result) > 1:
        shared = set(result["train"]) & set(result["test"])
        if shared:
            problems.append(f"stems in both train/ and test/ (must be unique): {', '.join(sorted(shared)[:10])}")
    if spec.stem_pattern:
        odd = [s for stems in result.values() for s in stems if not re.fullmatch(spec.stem_pattern, s)]
        if odd:
            problems.append(f"file names not in the official naming {spec.stem_pattern!r}: {', '.join(odd[:10])}")
    if problems:
        _raise(spec, root, problems)
    return result


def check_pair(spec: DatasetSpec, paths: dict[str, Path]) -> list[str]:
    """Problems of one pair (empty when it is valid): decoding, sizes, label range, boxes."""
    try:
        ir = read_infrared(paths["ir"])
        vis = read_visible(paths["vis"])
    except ImageReadError as error:
        return [str(error)]
    problems = []
    if ir.shape != vis.shape[:2]:
        problems.append(f"size mismatch: {paths['ir']} is {ir.shape[1]}x{ir.shape[0]} but "
                        f"{paths['vis']} is {vis.shape[1]}x{vis.shape[0]} (W x H)")
    if "label" in paths:
        try:
            label = read_label(paths["label"])
        except ImageReadError as error:
            return problems + [str(error)]
        if label.shape != vis.shape[:2]:
            problems.append(f"size mismatch: {paths['label']} is {label.shape[1]}x{label.shape[0]} but "
                            f"{paths['vis']} is {vis.shape[1]}x{vis.shape[0]} (W x H)")
        bad = np.unique(label[(label >= spec.num_classes) & (label != 255)])
        if bad.size:
            problems.append(f"{paths['label']}: label values {bad.tolist()} out of range 0..{spec.num_classes - 1} "
                            "(255 = ignore); is it a colour rendering or another class convention?")
    if "annotation" in paths:
        try:
            width, height, boxes = read_voc(paths["annotation"])
        except AnnotationError as error:
            return problems + [str(error)]
        if (width, height) != (vis.shape[1], vis.shape[0]):
            problems.append(f"{paths['annotation']}: <size> {width}x{height} differs from the image "
                            f"{vis.shape[1]}x{vis.shape[0]}")
        for name, x0, y0, x1, y1 in boxes:
            if name not in spec.classes:
                problems.append(f"{paths['annotation']}: unknown class {name!r}; valid: {', '.join(spec.classes)}")
            if not (0 <= x0 < x1 <= vis.shape[1] and 0 <= y0 < y1 <= vis.shape[0]):
                problems.append(f"{paths['annotation']}: box {name} ({x0}, {y0}, {x1}, {y1}) is empty or "
                                "outside the image")
    return problems


def validate_dataset(spec: DatasetSpec, root: str | Path, expected_counts: dict[str, int] | None = None
                     ) -> dict[str, list[str]]:
    """Validate a dataset in its official layout; return the sorted stems of each official group.

    ``expected_counts`` (group -> number of pairs) also checks completeness (official data).
    Raises :class:`DatasetError` listing every problem with its file.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{spec.name}: {root} is not a directory. {spec.manual}")
    stems = list_stems(spec, root)
    problems: list[str] = []
    for group, group_stems in stems.items():
        if expected_counts and group in expected_counts and len(group_stems) != expected_counts[group]:
            problems.append(f"{group_dir(spec, root, group)}: {len(group_stems)} pairs, the official "
                            f"release has {expected_counts[group]} (incomplete download or extraction?)")
        base = group_dir(spec, root, group)
        for stem in group_stems:
            paths = {k: base / f / f"{stem}{file_suffix(k)}" for k, f in spec.folders.items()}
            problems.extend(check_pair(spec, paths))
    if problems:
        _raise(spec, root, problems)
    return stems
