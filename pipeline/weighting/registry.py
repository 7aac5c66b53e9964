"""Weightings of L_csc keyed by the params string (`weighting`, `runs.<run>.weighting`)."""
from __future__ import annotations

from pipeline.weighting.base import Weighting
from pipeline.weighting.dwa import DWAWeighting
from pipeline.weighting.fixed import FixedWeighting
from pipeline.weighting.gdwa import GDWAWeighting
from pipeline.weighting.names import WEIGHTING_NAMES
from pipeline.weighting.segmif import SegMiFWeighting
from pipeline.weighting.ucw import UCWWeighting

WEIGHTINGS: dict[str, type[Weighting]] = {
    "gdwa": GDWAWeighting,
    "dwa": DWAWeighting,
    "ucw": UCWWeighting,
    "segmif": SegMiFWeighting,
    "fixed": FixedWeighting,
}
if tuple(WEIGHTINGS) != WEIGHTING_NAMES:  # params validation reads the torch-free list
    raise ImportError(f"WEIGHTINGS {tuple(WEIGHTINGS)} != pipeline.weighting.names {WEIGHTING_NAMES}")


def create_weighting(name: str, params: dict) -> Weighting:
    """The weighting `name` configured from params `weightings` (a dict of its keys)."""
    if name not in WEIGHTINGS:
        raise KeyError(f"unknown weighting {name!r}; valid names: {', '.join(WEIGHTINGS)}")
    return WEIGHTINGS[name].from_params(params)
