"""Shared test fixtures: the read-only material in ../shared (skipped when absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# Deterministic, quiet CPU runs on small machines.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the repository root; tests using it skip cleanly without it."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared not found at {SHARED}: golden and sample files are unavailable")
    return SHARED
