"""The interface every weighting of L_csc implements (Eq. 2: L_fus + w_csc L_csc in stage II)."""
from __future__ import annotations

import abc

import torch
from torch import nn


class Weighting(nn.Module, abc.ABC):
    """Gives the coefficients (c_fus, c_csc) of the two task losses for one stage-II step.

    The trainer calls :meth:`begin_epoch` with the epoch means of both losses over the
    completed stage-II epochs, then per step :meth:`coefficients` with the step's (unweighted)
    losses and, when :attr:`needs_task_gradients`, the gradient norms of each loss over the
    fusion model's parameters. The logged weight is w_csc = c_csc / c_fus. A weighting with
    learnable parameters (UCW) returns their loss from :meth:`parameter_loss`.
    """

    name = "base"
    needs_task_gradients = False

    def begin_epoch(self, fusion_means: list[float], csc_means: list[float]) -> None:
        """Epoch means of L_fus and L_csc over the completed stage-II epochs, oldest first."""

    @abc.abstractmethod  # every weighting (fixed, DWA, GDWA, UCW, SegMiF's) defines its (c_fus, c_csc)
    def coefficients(
        self, loss_fus: float, loss_csc: float, grad_fus: float | None = None, grad_csc: float | None = None
    ) -> tuple[float, float]:
        """(c_fus, c_csc) for this step's unweighted losses (and gradient norms when needs_task_gradients)."""

    def parameter_loss(self, loss_fus: torch.Tensor, loss_csc: torch.Tensor) -> torch.Tensor | None:
        """Loss of the weighting's own parameters, given detached task losses (None: it has none)."""
        return None


def descent_rates(fusion_means: list[float], csc_means: list[float]) -> tuple[float, float] | None:
    """r_k = L_k(t-1) / L_k(t-2) on the last two epoch means; None before two epochs exist."""
    if len(fusion_means) < 2 or len(csc_means) < 2:
        return None
    return fusion_means[-1] / fusion_means[-2], csc_means[-1] / csc_means[-2]


def softmax2(a: float, b: float, temperature: float) -> tuple[float, float]:
    """(e^{a/T}, e^{b/T}) / (e^{a/T} + e^{b/T}), computed stably."""
    p = torch.softmax(torch.tensor([a, b], dtype=torch.float64) / temperature, dim=0)
    return float(p[0]), float(p[1])
