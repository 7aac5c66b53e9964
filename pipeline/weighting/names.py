"""Names of the L_csc weightings (params `weighting`, `runs.<run>.weighting`), without torch.

Each weighting is one plugin module of this package (pipeline.plugins): its file name is its
params name, its PLUGIN literal gives its order and its label in the reports. Adding a weighting
is adding one file; this list follows.
"""
from __future__ import annotations

from pipeline.plugins import declared

PACKAGE = "pipeline.weighting"
WEIGHTING_NAMES: tuple[str, ...] = tuple(declared(PACKAGE))
# Each weighting's name in the report tables (its PLUGIN label).
WEIGHTING_LABELS: dict[str, str] = {name: plugin["label"] for name, plugin in declared(PACKAGE).items()}
