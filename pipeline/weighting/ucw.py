"""UCW (Kendall et al., CVPR 2018): L = sum_k 1/2 e^{-s_k} L_k + 1/2 s_k, learnable s_k = log sigma_k^2."""
from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.weighting.base import Weighting


# A weighting plugin (pipeline.plugins): its name is this file's; `label` is its name in the reports.
PLUGIN = {"order": 3, "class": "UCWWeighting", "label": "UCW"}


class UCWWeighting(Weighting):
    """s initialised to -0.5 (MTAN, LibMTL) and optimised with the networks (no weight decay).

    The implied w_csc = e^{s_fus - s_csc} is what the trainer logs.
    """

    name = "ucw"

    def __init__(self, init: float = -0.5):
        super().__init__()
        self.log_vars = nn.Parameter(torch.full((2,), float(init)))

    @classmethod
    def from_params(cls, p: dict) -> "UCWWeighting":
        return cls(p["ucw_init"])

    def coefficients(self, loss_fus, loss_csc, grad_fus=None, grad_csc=None):
        s_fus, s_csc = (float(v) for v in self.log_vars.detach())
        return 0.5 * math.exp(-s_fus), 0.5 * math.exp(-s_csc)

    def parameter_loss(self, loss_fus, loss_csc):
        s = self.log_vars
        losses = torch.stack([loss_fus.detach(), loss_csc.detach()]).to(s.dtype)
        return (0.5 * torch.exp(-s) * losses + 0.5 * s).sum()
