"""EMMA's loss with pseudo-sensing networks (train_Fusion.py) on hand values, and its transform T."""
import pytest
import torch

from pipeline.losses.emma import emma_l, emma_sensing_loss, emma_transform
from pipeline.losses.original import ORIGINAL_FRAMEWORKS, emma_learned_framework, emma_loss


def _const(value, h=16, w=16):
    return torch.full((2, 1, h, w), float(value))


def test_constant_images_give_the_l1_terms_alone():
    # A_i(F) = 2F, A_v(F) = F and U(i, v) = i - v reproduces any T(F): the equivariance term is 0.
    fused, ir, vis = _const(0.25), _const(0.75), _const(0.5)
    loss = emma_sensing_loss(lambda i, v: i - v, fused, ir, vis, lambda x: 2 * x, lambda x: x)
    # l(A_v(F), vis) = |0.25 - 0.5| = 0.25; l(A_i(F), ir) = |0.5 - 0.75| = 0.25; gradients of constants are 0
    assert float(loss) == pytest.approx(0.5, abs=1e-7)


def test_gradient_term_is_the_normalised_sobel_of_kornia():
    # F = a ramp of slope s along W: normalised Sobel gx = s inside, s/2 at the two replicate-padded
    # border columns; gy = 0. With W = 4: mean |gx| = (1/2 + 1 + 1 + 1/2) s / 4 = 0.75 s over (gx, gy): 0.375 s.
    s = 0.1
    ramp = (torch.arange(4.0) * s).expand(1, 1, 16, 4)
    flat = torch.zeros_like(ramp) + ramp.mean()
    assert float(emma_l(ramp, flat)) == pytest.approx(s + 0.375 * s, abs=1e-7)  # mean |ramp - 0.15| = 0.1


def test_equivariance_term_weighs_0_1():
    # A_i = A_v = identity, U(i, v) = i + 0.1: U(A(T F)) - T F = 0.1 everywhere, gradients equal: 0.1 * 0.1
    fused = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    loss = emma_sensing_loss(lambda i, v: i + 0.1, fused, fused, fused, lambda x: x, lambda x: x)
    assert float(loss) == pytest.approx(0.01, abs=1e-6)


def test_transform_stacks_f_shifts_rotations_and_flips():
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    t = emma_transform(x)
    assert t.shape == (20, 1, 16, 16) and torch.equal(t[:2], x)
    for k in range(3):  # each shift is a cyclic roll: the same values
        assert torch.equal(t[2 + 2 * k:4 + 2 * k].flatten(1).sort(1).values, x.flatten(1).sort(1).values)
    assert torch.equal(t[14:16], x.flip(-1)) and torch.equal(t[16:18], x.flip(-2))
    assert torch.equal(t[18:20], x.flip(-1).flip(-2))
    torch.manual_seed(0)
    assert torch.equal(emma_transform(x), t)  # the trainer's per-epoch seed makes T repeatable


def test_frozen_sensing_nets_get_no_gradient_but_the_fusion_model_does():
    model = torch.nn.Conv2d(2, 1, 3, padding=1)
    a_i, a_v = torch.nn.Conv2d(1, 1, 1).requires_grad_(False), torch.nn.Conv2d(1, 1, 1).requires_grad_(False)
    fuse = lambda i, v: torch.sigmoid(model(torch.cat([i, v], 1)))  # noqa: E731
    ir, vis = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16)
    framework = emma_learned_framework(a_i, a_v)
    framework.loss(fuse, fuse(ir, vis), ir, vis).backward()
    assert model.weight.grad.abs().sum() > 0 and a_i.weight.grad is None and a_v.weight.grad is None
    assert framework.lr == ORIGINAL_FRAMEWORKS["emma"].lr and "learned pseudo-sensing" in framework.note


def test_sensing_nets_run_on_sizes_unet5_refuses():
    from pipeline.losses.emma import sensed
    from pipeline.models.unet5 import UNet5

    net = UNet5(1, (2, 2, 2, 2, 2)).eval()
    assert sensed(net)(torch.rand(1, 1, 24, 40)).shape == (1, 1, 24, 40)  # padded to 32x48, cropped back


def test_ideal_variant_is_todays_emma_loss():
    assert ORIGINAL_FRAMEWORKS["emma"].loss is emma_loss  # the run's loss when sensing.variant is ideal
