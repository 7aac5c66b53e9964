"""DWA (Liu et al., CVPR 2019): w_k = K softmax(r_k / T), r_k on epoch means; 1 for the first two epochs."""
from __future__ import annotations

from pipeline.weighting.base import Weighting, descent_rates, softmax2


def dwa_weights(fusion_means: list[float], csc_means: list[float], temperature: float = 2.0) -> tuple[float, float]:
    """(w_fus, w_csc) with K = 2 tasks; (1, 1) until two stage-II epochs have completed."""
    rates = descent_rates(fusion_means, csc_means)
    if rates is None:
        return 1.0, 1.0
    s_fus, s_csc = softmax2(*rates, temperature)
    return 2.0 * s_fus, 2.0 * s_csc


# A weighting plugin (pipeline.plugins): its name is this file's; `label` is its name in the reports.
PLUGIN = {"order": 2, "class": "DWAWeighting", "label": "DWA"}


class DWAWeighting(Weighting):
    """Weights are constant during an epoch and multiply both losses, as in DWA's code."""

    name = "dwa"

    def __init__(self, temperature: float = 2.0):
        super().__init__()
        self.temperature = float(temperature)
        self.weights = (1.0, 1.0)

    @classmethod
    def from_params(cls, p: dict) -> "DWAWeighting":
        return cls(p["dwa_temperature"])

    def begin_epoch(self, fusion_means, csc_means):
        self.weights = dwa_weights(fusion_means, csc_means, self.temperature)

    def coefficients(self, loss_fus, loss_csc, grad_fus=None, grad_csc=None):
        return self.weights
