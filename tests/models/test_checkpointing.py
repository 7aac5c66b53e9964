"""Activation checkpointing changes memory, not maths: same loss and gradients, lower peak."""
from __future__ import annotations

import pytest
import torch

from pipeline.models.checkpointing import set_checkpointing
from pipeline.models.registry import FUSION_MODELS, create_fusion_model

# Tiny widths; SwinFusion with depth 2 so that drop-path is active (rates 0 and 0.1) and the
# recomputation has to draw the same masks.
TINY = {
    "swinfusion": dict(embed_dim=8, num_heads=2, window_size=4, depth_extract=2, depth_fusion=2, depth_recon=2),
    "seafusion": dict(width=4),
    "emma": dict(widths=[4, 8, 8, 8], num_heads=2),
}


def _loss_and_grads(name, checkpointing, channels=3, size=16):
    torch.manual_seed(0)
    model = create_fusion_model(name, channels, **TINY[name]).train()
    set_checkpointing(model, checkpointing)
    g = torch.Generator().manual_seed(1)
    ir, vis = torch.rand(2, channels, size, size, generator=g), torch.rand(2, channels, size, size, generator=g)
    torch.manual_seed(2)  # drop-path masks
    features = model.features(ir, vis)
    fused = model.decode(features)
    feats = features if isinstance(features, list) else [features]
    loss = (fused - vis).abs().mean() + sum(f.square().mean() for f in feats)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("name", sorted(FUSION_MODELS))
def test_same_loss_and_gradients(name):
    loss_off, grads_off = _loss_and_grads(name, False)
    loss_on, grads_on = _loss_and_grads(name, True)
    torch.testing.assert_close(loss_on, loss_off, rtol=1.3e-6, atol=1e-7)
    assert grads_on.keys() == grads_off.keys() and grads_off
    for key in grads_off:
        torch.testing.assert_close(grads_on[key], grads_off[key], rtol=1.3e-6, atol=1e-7, msg=key)


def test_checkpointing_lowers_the_tracked_peak():
    from pipeline.models.complexity import LiveTensorBytes

    peaks = {}
    for on in (False, True):
        torch.manual_seed(0)
        model = create_fusion_model("swinfusion", 3, **TINY["swinfusion"]).train()
        set_checkpointing(model, on)
        ir, vis = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
        with LiveTensorBytes(list(model.parameters()) + list(model.buffers()) + [ir, vis]) as mode:
            model(ir, vis).mean().backward()
        peaks[on] = mode.peak
    assert peaks[True] < 0.6 * peaks[False]


def test_inference_is_unaffected():
    torch.manual_seed(0)
    model = create_fusion_model("swinfusion", 3, **TINY["swinfusion"]).eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        off = model(x, x)
        set_checkpointing(model, True)
        on = model(x, x)
    assert torch.equal(on, off)


def test_unknown_module_refused():
    with pytest.raises(ValueError, match="no checkpointable blocks"):
        set_checkpointing(torch.nn.Linear(2, 2), True)


def test_the_run_switches_reach_the_model():
    from pipeline.train.run import fusion_model_for_training

    on = fusion_model_for_training("swinfusion", 3, TINY["swinfusion"], {"checkpointing": True})
    off = fusion_model_for_training("swinfusion", 3, TINY["swinfusion"], {})
    assert on.checkpointing and not off.checkpointing
    assert on.state_dict().keys() == off.state_dict().keys()


def test_paper_profile_checkpoints_and_quick_does_not():
    from tests.models.conftest import PARAMS

    import yaml

    params = yaml.safe_load(PARAMS.read_text())
    assert params["paper"]["train"]["checkpointing"] is True and params["quick"]["train"]["checkpointing"] is False
    assert params["paper"]["train"]["compile"] is False and params["quick"]["train"]["compile"] is False


def test_gdwa_stage_two_step_is_unchanged():
    # GDWA takes autograd.grad(L_fus, retain_graph=True) and then L_csc.backward(): both passes
    # recompute the checkpointed blocks; the gradient norms, w_csc and the updated weights agree.
    from tests.models.test_memory_tracker import _trainer, stage_two_step

    results = []
    for on in (False, True):
        torch.manual_seed(0)
        trainer = _trainer(32, 2, on)
        g = torch.Generator().manual_seed(0)
        batch = {"ir": torch.rand(2, 1, 32, 32, generator=g), "vis": torch.rand(2, 3, 32, 32, generator=g)}
        torch.manual_seed(5)
        row = stage_two_step(trainer, batch)
        results.append((row, {k: v.clone() for k, v in trainer.strategy.fusion.state_dict().items()}))
    (row_off, w_off), (row_on, w_on) = results
    for key in ("loss_fus", "loss_csc", "grad_norm_fus", "grad_norm_csc", "w_csc", "alpha_cf"):
        assert row_on[key] == pytest.approx(row_off[key], rel=1e-5), key
    for key in w_off:
        torch.testing.assert_close(w_on[key], w_off[key], rtol=1.3e-6, atol=1e-7, msg=key)
