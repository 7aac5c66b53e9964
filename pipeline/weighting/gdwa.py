"""GDWA, the paper's Gradient-and-Descent-based Weight Adjustment (Sec. III-E, Eq. 7)."""
from __future__ import annotations

from pipeline.weighting.base import Weighting, descent_rates, softmax2


def gdwa_weight(
    grad_fus: float, grad_csc: float, fusion_means: list[float], csc_means: list[float], temperature: float = 2.0
) -> float:
    """w_csc = lambda_csc / lambda_fus (Eq. 7).

    grad_*: ||grad_theta L_k||_2 over the fusion model's parameters (unweighted losses);
    *_means: epoch means of the completed stage-II epochs. g~_A = g_A / (g_A + g_B);
    s_k = softmax(r_k / T) of the descent rates r_k = L_k^j / L_k^{j-1}, s = 1/2 each until
    two epochs exist (DWA's convention; the paper is silent); lambda_A ∝ g~_A s_A.
    """
    total = grad_fus + grad_csc
    if total <= 0:
        return 0.0
    g_fus, g_csc = grad_fus / total, grad_csc / total
    rates = descent_rates(fusion_means, csc_means)
    s_fus, s_csc = (0.5, 0.5) if rates is None else softmax2(*rates, temperature)
    lam_fus = g_fus * s_fus / (g_fus * s_fus + g_csc * s_csc)
    lam_csc = 1.0 - lam_fus
    return lam_csc / lam_fus if lam_fus > 0 else 0.0


# A weighting plugin (pipeline.plugins): its name is this file's; `label` is its name in the reports.
PLUGIN = {"order": 1, "class": "GDWAWeighting", "label": "GDWA"}


class GDWAWeighting(Weighting):
    name = "gdwa"
    needs_task_gradients = True

    def __init__(self, temperature: float = 2.0):
        super().__init__()
        self.temperature = float(temperature)
        self.fusion_means: list[float] = []
        self.csc_means: list[float] = []

    @classmethod
    def from_params(cls, p: dict) -> "GDWAWeighting":
        return cls(p["gdwa_temperature"])

    def begin_epoch(self, fusion_means, csc_means):
        self.fusion_means, self.csc_means = list(fusion_means), list(csc_means)

    def coefficients(self, loss_fus, loss_csc, grad_fus=None, grad_csc=None):
        if grad_fus is None or grad_csc is None:
            raise ValueError("GDWA needs both gradient norms over the fusion model's parameters")
        return 1.0, gdwa_weight(grad_fus, grad_csc, self.fusion_means, self.csc_means, self.temperature)
