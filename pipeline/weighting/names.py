"""Names of the L_csc weightings (params `weighting`, `runs.<run>.weighting`), without torch.

`pipeline.weighting.registry` is keyed by exactly these names, in this order (it refuses to
import otherwise); params validation (`stages._params`) reads them here so that every stage
can check params.yaml without importing torch.
"""
from __future__ import annotations

WEIGHTING_NAMES: tuple[str, ...] = ("gdwa", "dwa", "ucw", "segmif", "fixed")
