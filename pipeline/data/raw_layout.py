"""Official folder layouts and file naming: where the files of a pair live.

MSRS and FMB: ``<root>/{train,test}/<modality folder>/<stem>.png``; the val split is cut
from the official train folder. M3FD: ``<root>/M3FD_Detection/{Ir,Vis,Annotation}/<stem>.{png,xml}``.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.data.registry import DatasetSpec

SPLITS = ("train", "val", "test")


def official_group(spec: DatasetSpec, split: str) -> str:
    """Folder group a split's files live in: ``train``/``test`` (MSRS, FMB) or ``all`` (M3FD)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    if not spec.official_splits:
        return "all"
    return "test" if split == "test" else "train"


def group_dir(spec: DatasetSpec, root: str | Path, group: str) -> Path:
    """Directory holding the modality folders of one official group."""
    return Path(root) / (spec.root_subdir if group == "all" else group)


def groups(spec: DatasetSpec) -> tuple[str, ...]:
    """Official folder groups of a dataset: ("train", "test") or ("all",)."""
    return spec.official_splits or ("all",)


def file_suffix(key: str) -> str:
    return ".xml" if key == "annotation" else ".png"


def pair_paths(spec: DatasetSpec, root: str | Path, stem: str, split: str) -> dict[str, Path]:
    """Paths of one pair: keys ``ir``, ``vis`` and ``label`` (MSRS/FMB) or ``annotation`` (M3FD)."""
    base = group_dir(spec, root, official_group(spec, split))
    return {key: base / folder / f"{stem}{file_suffix(key)}" for key, folder in spec.folders.items()}
