"""Resumable working directories: ``<root>/<name>-<digest>/`` keyed by config AND input content.

The digest covers the training configuration and the bytes of every input file, so a
changed param or regenerated fused image starts a fresh directory instead of resuming a
stale model. Checkpoints inside are written atomically (temp + rename).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import torch

from pipeline.atomic import atomic_torch_save


def files_digest(paths: Iterable[Path]) -> str:
    """sha256 over (file name, file bytes) of ``paths`` in the given order."""
    h = hashlib.sha256()
    for path in paths:
        h.update(Path(path).name.encode() + b"\0")
        h.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return h.hexdigest()


def config_digest(config: dict[str, Any], inputs_digest: str = "") -> str:
    """Short, stable digest (12 hex) of a JSON-serialisable config, an inputs digest and torch's thread count.

    The thread count is keyed because float sums depend on it: a run never resumes from a
    checkpoint written at another thread count.
    """
    keyed = {**config, "intra_op_threads": torch.get_num_threads()}
    text = json.dumps(keyed, sort_keys=True, default=str) + inputs_digest
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def work_dir(root: str | Path, name: str, digest: str) -> Path:
    path = Path(root) / f"{name}-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_checkpoint(path: Path, state: dict) -> None:
    """torch.save through a temp file: an interruption never leaves a truncated checkpoint."""
    atomic_torch_save(path, state)


def load_checkpoint(path: Path) -> dict | None:
    return torch.load(path, map_location="cpu", weights_only=False) if path.exists() else None
