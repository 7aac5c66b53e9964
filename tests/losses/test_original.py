import pytest
import torch

from pipeline.losses.original import ORIGINAL_FRAMEWORKS, emma_loss, random_transform, seafusion_loss, swinfusion_loss


def _y(seed=0):
    return torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("loss", [swinfusion_loss, seafusion_loss])
def test_content_losses_vanish_when_sources_and_fused_agree(loss):
    y = _y()
    assert float(loss(y, y, y)) == pytest.approx(0.0, abs=1e-5)
    assert float(loss(torch.zeros_like(y), y, _y(1))) > 0.1


def test_emma_loss_trains_the_model_through_the_equivariance_term():
    model = torch.nn.Conv2d(2, 1, 3, padding=1)
    wrapped = lambda ir, vis: model(torch.cat([ir, vis], 1))  # noqa: E731
    ir, vis = _y(0), _y(1)
    fused = wrapped(ir, vis)
    emma_loss(wrapped, fused, ir, vis).backward()
    assert model.weight.grad.abs().sum() > 0


def test_random_transform_moves_all_images_alike():
    a = torch.arange(16.0).reshape(1, 1, 4, 4)
    ta, tb = random_transform([a, a.clone()], torch.Generator().manual_seed(3))
    assert torch.equal(ta, tb) and sorted(ta.flatten().tolist()) == list(range(16))


def test_every_fusion_model_has_an_original_framework():
    from pipeline.params import FUSION_MODEL_NAMES

    assert set(ORIGINAL_FRAMEWORKS) == set(FUSION_MODEL_NAMES)
    assert all(f.note and f.lr > 0 for f in ORIGINAL_FRAMEWORKS.values())
