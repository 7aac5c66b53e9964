"""The three sources of a dataset, all ending in ``data/raw/<dataset>`` in the official layout.

- ``synthetic``: the procedural generator;
- ``official``: published archives, downloaded to a cache folder, verified, safely extracted,
  validated and checked against a sha256 manifest before the output appears;
- ``local``: a copy the user has, validated in place and linked (a directory symlink, which
  DVC 3 hashes through; the data is not copied into the workspace).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from pipeline.atomic import atomic_dir
from pipeline.data.download import DownloadError, fetch_archive
from pipeline.data.extract import find_content, place, safe_extract
from pipeline.data.manifest import build_manifest, check_manifest
from pipeline.data.registry import DatasetSpec
from pipeline.data.synthetic import generate_dataset
from pipeline.data.validate import DatasetError, validate_dataset


def fetch_synthetic(spec: DatasetSpec, out: str | os.PathLike, seed: int, size: dict) -> tuple[dict, dict[str, str]]:
    """Generate the synthetic dataset into ``out`` (atomically) and validate it.

    Returns (per-group counts, {stem: condition}): the generator's conditions are exact."""
    with atomic_dir(out) as tmp:
        summary, conditions = generate_dataset(spec, tmp, seed, size)
        validate_dataset(spec, tmp)
    return summary, conditions


def fetch_official(spec: DatasetSpec, out: str | os.PathLike, downloads: str | os.PathLike,
                   base_url: str | None = None, allow_unofficial: bool = False,
                   expected_counts: dict[str, int] | None = None, log: Callable[[str], None] = print) -> dict:
    """Download, verify, extract and validate ``spec``'s archives into ``out``.

    Archives are cached in ``downloads`` (partial files resume); the manifest of the extracted files
    is ``downloads/<dataset>.manifest.json``, written on the first run and compared on later ones.
    ``expected_counts`` defaults to the official pair counts.
    """
    archives = list(spec.sources)
    unofficial = [a for a in archives if not a.official]
    if unofficial and not allow_unofficial:
        raise DownloadError(f"{spec.name}: the only scriptable source is an unofficial mirror "
                            f"({unofficial[0].note}); allow it with `dvc exp run -S data.allow_unofficial_mirror=true` "
                            f"or get the data by hand: {spec.manual}")
    paths = [fetch_archive(a, downloads, base_url=base_url, manual=spec.manual, log=log) for a in archives]
    counts = spec.official_counts if expected_counts is None else expected_counts
    with atomic_dir(out) as tmp:
        for i, (archive, path) in enumerate(zip(archives, paths)):
            staging = tmp / f".extract-{i}"
            log(f"extracting {path.name}")
            safe_extract(path, staging)
            content = find_content(staging, archive.marker)
            place(content, tmp / archive.target if archive.target else tmp)
            shutil.rmtree(staging, ignore_errors=True)
        stems = validate_dataset(spec, tmp, expected_counts=counts or None)
        check_manifest(build_manifest(tmp), Path(downloads) / f"{spec.name}.manifest.json")
    return {group: {"pairs": len(s)} for group, s in stems.items()}


def link_local(spec: DatasetSpec, source: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Validate a local copy in place and make ``out`` a symlink to it (nothing is copied)."""
    if not str(source):
        raise DatasetError(f"data.source=local but data.local.{spec.name} is empty: set it to the folder of "
                           f"your copy (`dvc exp run -S data.local.{spec.name}=/path/to/{spec.name}`).")
    source = Path(source).expanduser().resolve()
    if spec.root_subdir and source.name == spec.root_subdir and not (source / spec.root_subdir).is_dir():
        raise DatasetError(f"data.local.{spec.name}={source}: point it at the folder that CONTAINS "
                           f"{spec.root_subdir}/, i.e. {source.parent}")
    stems = validate_dataset(spec, source)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.link"
    tmp.unlink(missing_ok=True)
    os.symlink(source, tmp, target_is_directory=True)
    if out.is_dir() and not out.is_symlink():
        shutil.rmtree(out)
    os.replace(tmp, out)  # atomic: the link appears only after validation
    return {group: {"pairs": len(s)} for group, s in stems.items()}
