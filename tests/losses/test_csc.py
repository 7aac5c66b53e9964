import math

import pytest
import torch

from pipeline.losses.csc import csc_loss, dice_loss, hybrid_loss, pseudo_label


def _logits(probs):
    """(H*W, n) probabilities of one image -> (1, n, 1, W) logits."""
    p = torch.tensor(probs, dtype=torch.float64)
    return p.log().T[None, :, None, :]


def test_pseudo_label_takes_the_more_confident_branch_per_pixel():
    # pixel 0: A says class 2 at 0.7, B says class 0 at 0.5 -> A wins (2)
    # pixel 1: A says class 1 at 0.4, B says class 0 at 0.9 -> B wins (0)
    # pixel 2: equal confidence 0.6 -> "otherwise" -> B's class (1)
    a = _logits([[0.2, 0.1, 0.7], [0.3, 0.4, 0.3], [0.6, 0.2, 0.2]])
    b = _logits([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [0.2, 0.6, 0.2]])
    assert pseudo_label(a, b).tolist() == [[[2, 0, 1]]]


def test_pseudo_label_carries_no_gradient_and_csc_reaches_both_branches():
    a = torch.randn(2, 4, 5, 6, requires_grad=True)
    b = torch.randn(2, 4, 5, 6, requires_grad=True)
    assert not pseudo_label(a, b).requires_grad
    csc_loss(a, b).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0


def test_csc_is_the_mean_of_the_two_hybrid_losses():
    a, b = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    label = pseudo_label(a, b)
    expected = 0.5 * (hybrid_loss(a, label) + hybrid_loss(b, label))
    assert float(csc_loss(a, b)) == pytest.approx(float(expected))


def test_dice_of_a_confident_correct_prediction_is_near_zero():
    label = torch.tensor([[[0, 1], [2, 1]]])
    logits = torch.nn.functional.one_hot(label, 3).permute(0, 3, 1, 2).float() * 50
    assert float(dice_loss(logits, label, eps=1e-6)) == pytest.approx(0.0, abs=1e-4)
    # hand value: uniform 3-class prediction on 4 pixels, eps=0; class sizes 1, 2, 1
    uniform = torch.zeros(1, 3, 2, 2)
    per_class = [2 * (1 / 3) / (4 / 3 + 1), 2 * (2 / 3) / (4 / 3 + 2), 2 * (1 / 3) / (4 / 3 + 1)]
    assert float(dice_loss(uniform, label, eps=0.0)) == pytest.approx(1 - sum(per_class) / 3)
    assert float(hybrid_loss(uniform, label, eps=0.0)) == pytest.approx(math.log(3) + 1 - sum(per_class) / 3)


def test_reduce_makes_the_dice_sums_those_of_the_global_batch():
    """Two processes holding the same shard: summing over them (reduce doubles the sums) is Dice of the doubled batch."""
    torch.manual_seed(0)
    logits, label = torch.randn(2, 3, 4, 5, dtype=torch.float64), torch.randint(0, 3, (2, 4, 5))
    both = dice_loss(torch.cat([logits, logits]), torch.cat([label, label]))
    assert float(dice_loss(logits, label, reduce=lambda v: 2 * v)) == pytest.approx(float(both))
    calls = []
    csc_loss(logits, logits.flip(0), reduce=lambda v: calls.append(v) or v)
    assert len(calls) == 4  # intersection and total, for each branch
    assert float(csc_loss(logits, logits.flip(0), reduce=lambda v: v)) == float(csc_loss(logits, logits.flip(0)))
