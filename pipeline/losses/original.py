"""Losses of the fusion models' original frameworks (the "Original" rows of Tables III (i) and IV).

All work on one channel (infrared and visible luminance Y), as the original code does.
Facts from docs/models.md; where the original needs what cannot be had here, the
feasible variant is stated in the function's docstring and recorded in the run's config.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from kornia.metrics import ssim

from pipeline.losses.gradients import sobel_magnitude


def swinfusion_loss(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """20 L1(F, max(A, B)) + 20 L1(|grad F|, max(|grad A|, |grad B|)) + 10 (1 - [w_A SSIM(A, F) + w_B SSIM(B, F)]).

    w_X = mean|grad X| / (mean|grad A| + mean|grad B|) over the batch; SSIM 11x11 Gaussian, sigma 1.5.
    All (B, 1, H, W) in [0, 1].
    """
    g_ir, g_vis, g_f = sobel_magnitude(ir), sobel_magnitude(vis), sobel_magnitude(fused)
    intensity = (fused - torch.maximum(ir, vis)).abs().mean()
    texture = (g_f - torch.maximum(g_ir, g_vis)).abs().mean()
    w_ir = g_ir.mean() / (g_ir.mean() + g_vis.mean() + 1e-12)
    s_ir = ssim(ir, fused, window_size=11, max_val=1.0).mean()
    s_vis = ssim(vis, fused, window_size=11, max_val=1.0).mean()
    return 20 * intensity + 20 * texture + 10 * (1 - (w_ir * s_ir + (1 - w_ir) * s_vis))


def seafusion_loss(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """L1(Y_f, max(Y_vis, IR)) + 10 L1(|grad Y_f|, max(|grad Y_vis|, |grad IR|)) (Sobel |gx| + |gy|).

    Feasible variant: SeAFusion's semantic loss (a BiSeNet trained on labelled fused images,
    OHEM cross-entropy, 4 rounds) is dropped, so this "Original" is trained without labels,
    like the other two originals and SSVIF.
    """
    intensity = (fused - torch.maximum(ir, vis)).abs().mean()
    texture = (sobel_magnitude(fused) - torch.maximum(sobel_magnitude(ir), sobel_magnitude(vis))).abs().mean()
    return intensity + 10 * texture


def _l1_and_gradient(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """EMMA's l = L1 + L1 of the Sobel gradients."""
    return (a - b).abs().mean() + (sobel_magnitude(a) - sobel_magnitude(b)).abs().mean()


def random_transform(images: list[torch.Tensor], generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """EMMA's T: one random shift (roll), rotation by a multiple of 90 degrees and flip, same for all."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    flip = bool(torch.randint(0, 2, (1,), generator=generator))
    h, w = images[0].shape[-2:]
    dy = int(torch.randint(0, max(h // 4, 1), (1,), generator=generator))
    dx = int(torch.randint(0, max(w // 4, 1), (1,), generator=generator))
    out = []
    for x in images:
        x = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
        x = torch.rot90(x, k, dims=(-2, -1))
        out.append(torch.flip(x, dims=(-1,)) if flip else x)
    return out


def emma_loss(model, fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
    """l(A_v(F), vis) + l(A_i(F), ir) + 0.1 l(T(F), U(A_i(T(F)), A_v(T(F)))), l = L1 + L1 of gradients.

    The ideal variant (`<profile>.sensing.variant: ideal`; learned: emma_learned_framework, with A_i,
    A_v trained here or EMMA's released pair): they are taken as ideal sensors, A_i(F) = I_ir and A_v(F) = I_vis for the
    first two terms (l(F, I_ir) + l(F, I_vis)) and A(T(F)) = T(I) in the equivariance term,
    which becomes 0.1 l(T(F), U(T(I_ir), T(I_vis))).
    """
    t_fused, t_ir, t_vis = random_transform([fused, ir, vis])
    equivariance = _l1_and_gradient(t_fused, model(t_ir, t_vis))
    return _l1_and_gradient(fused, vis) + _l1_and_gradient(fused, ir) + 0.1 * equivariance


@dataclass(frozen=True)
class OriginalFramework:
    """loss(model, fused, ir, vis) and the original paper's learning rate (a run trains at it x
    `<profile>.lr_scale`: pipeline.train.learning_rate); note: the variant trained here."""

    loss: Callable
    lr: float
    note: str


ORIGINAL_FRAMEWORKS: dict[str, OriginalFramework] = {
    "swinfusion": OriginalFramework(
        lambda model, f, i, v: swinfusion_loss(f, i, v), 2e-5,
        "SwinFusion loss (int + grad + gradient-weighted SSIM), Adam 2e-5; no EMA of the weights at test time."),
    "seafusion": OriginalFramework(
        lambda model, f, i, v: seafusion_loss(f, i, v), 1e-3,
        "SeAFusion content loss only (int + 10 grad), Adam 1e-3 without the 0.75 per-epoch decay; "
        "the labelled semantic loss (BiSeNet, OHEM CE, 4 rounds) is dropped: trained without labels."),
    "emma": OriginalFramework(
        emma_loss, 1e-4,
        "EMMA loss with ideal pseudo-sensing (A_i(F)=I_ir, A_v(F)=I_vis; their U-Nets are not public), "
        "equivariance term 0.1 l(T(F), U(T(I_ir), T(I_vis))) kept; Adam 1e-4 without the x0.5/20-epoch decay."),
}


# Where a learned-sensing run's A_i, A_v come from: trained here (sensing.source synthetic | retrain) or released.
TRAINED_SENSING = "trained by sensing@<dataset> on the max rule's fused images (upstream: DIDFuse/AUIF results)"
RELEASED_SENSING = "from EMMA's released Ai.pth, Av.pth (sensing@released: one pair for every dataset)"
EMMA_LEARNED_SENSING_LOSS = (
    "EMMA loss with learned pseudo-sensing (train_Fusion.py): l(A_v(F), I_vis) + l(A_i(F), I_ir) + 0.1 "
    "l(T(F), U(A_i(T(F)), A_v(T(F)))), l = L1 + L1 of normalised Sobel gradients, T = 3 shifts, 3 rotations, "
    f"3 flips; A_i, A_v frozen UNet5s {TRAINED_SENSING}")
EMMA_LEARNED_SENSING_NOTE = EMMA_LEARNED_SENSING_LOSS + "; Adam 1e-4 without the x0.5/20-epoch decay."

# The notes of a run with <profile>.original_schedule on (its record says which parts): what still differs.
RETRAIN_NOTES: dict[str, str] = {
    "swinfusion": "SwinFusion loss (int + grad + gradient-weighted SSIM), Adam 2e-5, MultiStepLR x0.5 at iterations "
                  "250k, 400k, 450k, 475k, 500k (lr_schedule), fused with the 0.999 EMA of the weights (ema); still "
                  "differs: the length, batch and crop are <profile>.original's (upstream's released E.pth: iteration "
                  "10000, batch 12, 128x128 patches).",
    "seafusion": "SeAFusion content loss only (int + 10 grad), Adam 1e-3 x0.75 per epoch as train.py (lr_schedule); "
                 "still differs: the labelled semantic loss (BiSeNet, OHEM CE, 4 rounds of 10 epochs) is dropped, so it "
                 "is trained without labels, for <profile>.original's epochs instead of 10.",
    "emma": "Adam 1e-4 with StepLR(20 epochs, x0.5) (lr_schedule); still differs: <profile>.original's epochs, batch "
            "and crop (upstream: 120 epochs, batch 4, 128x128 patches at stride 200).",
}


def sensing_note(note: str, sensing: dict) -> str:
    """`note` of a learned-sensing EMMA run whose sensing record is `sensing`: the released pair (source
    official | local) instead of networks trained here; a trained pair keeps the note as it was."""
    return note.replace(TRAINED_SENSING, RELEASED_SENSING) if sensing.get("source") in ("official", "local") else note


def retrain_note(model_name: str, learned_sensing: bool = False) -> str:
    """The run record's original_variant when <profile>.original_schedule applies to `model_name`."""
    if model_name != "emma":
        return RETRAIN_NOTES[model_name]
    loss = EMMA_LEARNED_SENSING_LOSS if learned_sensing else ORIGINAL_FRAMEWORKS["emma"].note.split("; Adam")[0]
    return f"{loss}; {RETRAIN_NOTES['emma']}"


def emma_learned_framework(a_i, a_v) -> OriginalFramework:
    """EMMA's framework with its pseudo-sensing networks A_i, A_v (frozen: the caller's eval-mode nets)."""
    from pipeline.losses.emma import emma_sensing_loss, sensed

    sense_i, sense_v = sensed(a_i), sensed(a_v)
    return OriginalFramework(lambda model, f, i, v: emma_sensing_loss(model, f, i, v, sense_i, sense_v),
                             ORIGINAL_FRAMEWORKS["emma"].lr, EMMA_LEARNED_SENSING_NOTE)


def original_framework(model_name: str) -> OriginalFramework:
    if model_name not in ORIGINAL_FRAMEWORKS:
        raise KeyError(f"no original framework for {model_name!r}; valid names: {', '.join(ORIGINAL_FRAMEWORKS)}")
    return ORIGINAL_FRAMEWORKS[model_name]
