"""Names of the classical fusion rules (params `methods.rules`), without torch: one plugin module each."""
from __future__ import annotations

from pipeline.plugins import declared

PACKAGE = "pipeline.rules"
RULE_NAMES: tuple[str, ...] = tuple(declared(PACKAGE))
