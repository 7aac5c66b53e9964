"""One optimisation step: stage I (L_fus alone) and stage II (Eq. 2), and the task-gradient statistics.

The stage-II step takes the weighting's coefficients (c_fus, c_csc) of Eq. 2 (GDWA, Eq. 7, from
the task-gradient norms) and, when asked, the projection coefficient alpha_cf (Eq. 8) and
cos phi_cf (Eq. 9) of Appendix C between g_csc and g_fus over the fusion model's parameters.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from pipeline import distributed as dist
from pipeline.losses.csc import csc_loss
from pipeline.models.inputs import prepare_inputs
from pipeline.weighting.base import Weighting

# loss_fn(model, fused, ir_in, vis_in) -> scalar L_fus
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def fusion_forward(fusion: nn.Module, batch: dict, channels: int, device: torch.device):
    """(fused features, fused image, ir input, vis input) of a batch {"ir": (B,1,H,W), "vis": (B,3,H,W)}."""
    ir_in, vis_in = prepare_inputs(batch["ir"], batch["vis"], channels, device)  # as the fuse path does
    features = fusion.features(ir_in, vis_in)
    fused = fusion.decode(features)
    return features, fused, ir_in, vis_in


def projection_stats(g_fus: list[torch.Tensor], g_csc: list[torch.Tensor]) -> dict[str, float]:
    """Gradient norms, projection coefficient alpha_cf (Eq. 8) and cos phi_cf (Eq. 9)."""
    sums = torch.stack([
        torch.stack([(a.double() ** 2).sum() for a in g_fus]).sum(),
        torch.stack([(b.double() ** 2).sum() for b in g_csc]).sum(),
        torch.stack([(a.double() * b.double()).sum() for a, b in zip(g_fus, g_csc)]).sum(),
    ])
    ff, cc, fc = sums.tolist()  # one device sync per step
    nf, nc = math.sqrt(ff), math.sqrt(cc)
    return {
        "grad_norm_fus": nf,
        "grad_norm_csc": nc,
        "alpha_cf": fc / ff if ff > 0 else float("nan"),
        "cos_phi_cf": fc / (nf * nc) if nf > 0 and nc > 0 else float("nan"),
    }


def fusion_step(fusion: nn.Module, loss_fn: LossFn, optimizer: torch.optim.Optimizer, batch: dict, channels: int,
                device: torch.device) -> dict:
    """Stage I (and the original frameworks): one Adam step on L_fus; returns the step's losses."""
    _, fused, ir_in, vis_in = fusion_forward(fusion, batch, channels, device)
    loss = loss_fn(fusion, fused, ir_in, vis_in)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    dist.average_gradients(_optimised(optimizer))  # several processes: the global batch's gradient
    optimizer.step()
    value = _global_means(loss_fus=loss.item())["loss_fus"]
    return {"loss_fus": value, "loss_total": value}


def _optimised(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _global_means(**values: float) -> dict[str, float]:
    """Loss values as means over the processes (equal shards: the global batch's mean); as given with one."""
    return dist.all_reduce_mean(values) if dist.initialized() else values


def joint_step(fusion: nn.Module, head: nn.Module, segmenter: nn.Module, weighting: Weighting, loss_fn: LossFn,
               optimizer: torch.optim.Optimizer, batch: dict, channels: int, device: torch.device,
               task_gradients: bool) -> dict:
    """Stage II, Eq. 2: one Adam step on c_fus L_fus + c_csc L_csc (w_csc = c_csc / c_fus) over F, H and S.

    task_gradients: compute g_fus and g_csc over F apart (the weighting's gradient norms, Eq. 8-9
    statistics); otherwise one backward of the weighted total, for weightings that need no norms.
    """
    features, fused, ir_in, vis_in = fusion_forward(fusion, batch, channels, device)
    l_fus = loss_fn(fusion, fused, ir_in, vis_in)
    size = fused.shape[-2:]
    # several processes: the Dice sums of L_csc run over the global batch (global_sum; itself with one process)
    l_csc = csc_loss(head(features, size), segmenter(fused), reduce=dist.global_sum)
    optimizer.zero_grad(set_to_none=True)
    row: dict = {}
    # The weighting sees the global batch's losses (the processes' means: their shards are equal).
    losses = _global_means(loss_fus=l_fus.item(), loss_csc=l_csc.item())
    if task_gradients:
        # Two backward passes instead of one: g_fus over F alone (autograd.grad, graph
        # retained), then L_csc's backward fills F, H and S; the weighted sum of the two is
        # exactly the gradient of c_fus L_fus + c_csc L_csc, so nothing is recomputed.
        shared = [p for p in fusion.parameters() if p.requires_grad]
        g_fus = torch.autograd.grad(l_fus, shared, retain_graph=True, allow_unused=True)
        g_fus = dist.average_tensors([torch.zeros_like(p) if g is None else g for p, g in zip(shared, g_fus)])
        l_csc.backward()
        g_csc = dist.average_tensors([torch.zeros_like(p) if p.grad is None else p.grad for p in shared])
        row.update(projection_stats(g_fus, g_csc))
        c_fus, c_csc = weighting.coefficients(losses["loss_fus"], losses["loss_csc"], row["grad_norm_fus"],
                                              row["grad_norm_csc"])
        for p, gf, gc in zip(shared, g_fus, g_csc):
            p.grad = c_fus * gf + c_csc * gc
        branches = [p for module in (head, segmenter) for p in module.parameters()]
        dist.average_gradients(branches)
        for p in branches:
            if p.grad is not None:
                p.grad.mul_(c_csc)
        averaged = set(map(id, shared + branches))
    else:
        c_fus, c_csc = weighting.coefficients(losses["loss_fus"], losses["loss_csc"])
        (c_fus * l_fus + c_csc * l_csc).backward()
        averaged = set()
    extra = weighting.parameter_loss(l_fus, l_csc)
    if extra is not None:
        extra.backward()
    dist.average_gradients([p for p in _optimised(optimizer) if id(p) not in averaged])
    optimizer.step()
    l_f, l_c = losses["loss_fus"], losses["loss_csc"]
    row.update(loss_fus=l_f, loss_csc=l_c, loss_total=c_fus * l_f + c_csc * l_c, w_csc=c_csc / c_fus)
    return row
