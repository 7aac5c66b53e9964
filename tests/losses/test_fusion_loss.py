import pytest
import torch

from pipeline.losses.fusion_loss import FusionLossWeights, color_loss, fusion_loss, gradient_loss, intensity_loss


def _images(seed=0, size=24):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 1, size, size, generator=g), torch.rand(2, 3, size, size, generator=g)


def test_color_loss_is_zero_when_fused_is_visible():
    _, vis = _images()
    assert float(color_loss(vis, vis)) == pytest.approx(0.0, abs=1e-7)
    assert float(color_loss(vis.flip(1), vis)) > 1e-3


def test_intensity_loss_is_zero_at_the_elementwise_max():
    ir, vis = _images()
    assert float(intensity_loss(torch.maximum(ir.expand(-1, 3, -1, -1), vis), ir, vis)) == pytest.approx(0.0, abs=1e-7)


def test_all_terms_vanish_when_sources_and_fused_agree():
    _, vis = _images()
    gray = vis.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous()
    terms = fusion_loss(gray, gray[:, :1], gray, FusionLossWeights())
    for name, value in terms.items():
        assert float(value) == pytest.approx(0.0, abs=1e-5), name


def test_terms_are_positive_and_weighted_sum_is_total():
    ir, vis = _images()
    fused = torch.full_like(vis, 0.5)
    w = FusionLossWeights(1.0, 2.0, 3.0, 4.0)
    t = fusion_loss(fused, ir, vis, w)
    assert all(float(t[k]) > 0 for k in ("int", "grad", "ssim", "color"))
    expected = t["int"] + 2 * t["grad"] + 3 * t["ssim"] + 4 * t["color"]
    assert float(t["total"]) == pytest.approx(float(expected))


def test_single_channel_fusion_has_no_colour_term():
    ir, vis = _images()
    y = vis.mean(1, keepdim=True)
    assert float(fusion_loss(y * 0.5, ir, y, FusionLossWeights())["color"]) == 0.0


def test_gradient_loss_is_differentiable():
    ir, vis = _images()
    fused = torch.rand_like(vis, requires_grad=True)
    gradient_loss(fused, ir, vis).backward()
    assert fused.grad is not None and fused.grad.abs().sum() > 0


def test_channel_mismatch_is_a_clear_error():
    ir, vis = _images()
    with pytest.raises(ValueError, match="channels"):
        fusion_loss(vis[:, :1], ir, vis, FusionLossWeights())
