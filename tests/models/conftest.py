"""Model widths for tests, read from the project's params.yaml (quick and paper profiles)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def model_widths(profile: str) -> dict:
    """params ``<profile>.models``: name -> widths."""
    with open(PARAMS) as f:
        return yaml.safe_load(f)[profile]["models"]


@pytest.fixture(scope="session")
def paper_widths() -> dict:
    return model_widths("paper")


@pytest.fixture(scope="session")
def quick_widths() -> dict:
    return model_widths("quick")
