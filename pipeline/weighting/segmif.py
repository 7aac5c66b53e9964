"""SegMiF's weighting (Liu et al., ICCV 2023, training code): an iteration-level DWA.

After `warmup` iterations, r_k = ratio of the last two batch losses and (b_fus, b_seg) =
2 softmax(r / T) with T = 1000; total = b_fus (0.4 / k) L_fus + b_seg 0.8 L_seg.
Mapped onto SSVIF: L_seg -> L_csc, one training round (k = 1), and the total written in
Eq. 2's form L_fus + w_csc L_csc with w_csc = (0.8 b_seg) / (0.4 b_fus): the fixed task
preference 0.8 / 0.4 that Appendix A-A contrasts with GDWA is kept.
"""
from __future__ import annotations

from pipeline.weighting.base import Weighting, softmax2


# A weighting plugin (pipeline.plugins): its name is this file's; `label` is its name in the reports.
PLUGIN = {"order": 4, "class": "SegMiFWeighting", "label": "SegMiF"}


class SegMiFWeighting(Weighting):
    name = "segmif"

    def __init__(self, temperature: float = 1000.0, warmup: int = 10, fusion_base: float = 0.4, seg_base: float = 0.8):
        super().__init__()
        self.temperature, self.warmup = float(temperature), int(warmup)
        self.fusion_base, self.seg_base = fusion_base, seg_base
        self.iteration = 0
        self.previous: list[tuple[float, float]] = []  # the last two batch losses

    @classmethod
    def from_params(cls, p: dict) -> "SegMiFWeighting":
        return cls(p["segmif_temperature"], p["segmif_warmup_iters"])

    def coefficients(self, loss_fus, loss_csc, grad_fus=None, grad_csc=None):
        b_fus = b_seg = 1.0
        if self.iteration >= self.warmup and len(self.previous) == 2:
            (f2, c2), (f1, c1) = self.previous
            s_fus, s_seg = softmax2(f1 / f2, c1 / c2, self.temperature)
            b_fus, b_seg = 2 * s_fus, 2 * s_seg
        self.iteration += 1
        self.previous = (self.previous + [(float(loss_fus), float(loss_csc))])[-2:]
        return 1.0, (self.seg_base * b_seg) / (self.fusion_base * b_fus)

    def get_extra_state(self):
        return {"iteration": self.iteration, "previous": [list(p) for p in self.previous]}

    def set_extra_state(self, state):
        self.iteration = int(state["iteration"])
        self.previous = [tuple(p) for p in state["previous"]]
