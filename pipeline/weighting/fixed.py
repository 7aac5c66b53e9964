"""Fixed weighting: w_csc constant (0.1 in Table III (ii))."""
from __future__ import annotations

from pipeline.weighting.base import Weighting


# A weighting plugin (pipeline.plugins): its name is this file's; `label` is its name in the reports.
PLUGIN = {"order": 5, "class": "FixedWeighting", "label": "w_csc = 0.1"}


class FixedWeighting(Weighting):
    name = "fixed"

    def __init__(self, weight: float = 0.1):
        super().__init__()
        self.weight = float(weight)

    @classmethod
    def from_params(cls, p: dict) -> "FixedWeighting":
        return cls(p["fixed_w"])

    def coefficients(self, loss_fus, loss_csc, grad_fus=None, grad_csc=None):
        return 1.0, self.weight
