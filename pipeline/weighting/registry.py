"""Weightings of L_csc keyed by the params string (`weighting`, `runs.<run>.weighting`).

Each is a plugin module of this package (pipeline.plugins): only the one a run uses is imported.
"""
from __future__ import annotations

from pipeline import plugins
from pipeline.weighting.base import Weighting
from pipeline.weighting.names import PACKAGE, WEIGHTING_NAMES


def weighting_class(name: str) -> type[Weighting]:
    return plugins.load(PACKAGE, name, "weighting")


def create_weighting(name: str, params: dict) -> Weighting:
    """The weighting `name` configured from params `weightings` (a dict of its keys)."""
    return weighting_class(name).from_params(params)


def __getattr__(attr: str):
    if attr == "WEIGHTINGS":  # {name: class} of every weighting (imports them all: tests and tools only)
        return {name: weighting_class(name) for name in WEIGHTING_NAMES}
    raise AttributeError(attr)
