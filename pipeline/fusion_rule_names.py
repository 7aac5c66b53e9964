"""Names of the classical fusion rules (params `methods.rules`), without torch.

`pipeline.fusion_rules.FUSION_RULES` is keyed by exactly these names, in this order (it
refuses to import otherwise); params validation (`stages._params`) reads them here.
"""
from __future__ import annotations

RULE_NAMES: tuple[str, ...] = ("max", "mean", "visible", "infrared")
