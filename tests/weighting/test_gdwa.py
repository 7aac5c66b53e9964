import math

import pytest
import torch

from pipeline.train.step import projection_stats
from pipeline.weighting.gdwa import GDWAWeighting, gdwa_weight


def _toy_gradients():
    """Shared parameters theta = (t0, t1); L_fus = 3 t0 + 4 t1, L_csc = t0: known gradients (3, 4) and (1, 0)."""
    theta = torch.zeros(2, requires_grad=True)
    g_fus = torch.autograd.grad(3 * theta[0] + 4 * theta[1], theta)
    g_csc = torch.autograd.grad(theta[0] * 1.0, theta)
    return list(g_fus), list(g_csc)


def test_gradient_statistics_on_a_toy_model():
    stats = projection_stats(*_toy_gradients())
    assert stats["grad_norm_fus"] == pytest.approx(5.0)
    assert stats["grad_norm_csc"] == pytest.approx(1.0)
    assert stats["alpha_cf"] == pytest.approx(3 / 25)  # Eq. 8: (g_csc . g_fus) / ||g_fus||^2
    assert stats["cos_phi_cf"] == pytest.approx(3 / 5)  # Eq. 9


def test_gdwa_without_history_is_the_gradient_norm_ratio():
    # g~ = (5/6, 1/6), s = (1/2, 1/2): lambda_fus = 5/6, w_csc = (1/6) / (5/6) = 0.2
    assert gdwa_weight(5.0, 1.0, [], []) == pytest.approx(0.2)
    assert gdwa_weight(5.0, 1.0, [2.0], [1.0]) == pytest.approx(0.2)  # one epoch: no descent rate yet


def test_gdwa_with_descent_rates_matches_hand_computation():
    # r_fus = 1/2 (fast descent), r_csc = 1 (stalled), T = 2
    s_fus = math.exp(0.25) / (math.exp(0.25) + math.exp(0.5))
    s_csc = 1 - s_fus
    lam_fus = (5 / 6) * s_fus / ((5 / 6) * s_fus + (1 / 6) * s_csc)
    expected = (1 - lam_fus) / lam_fus
    assert gdwa_weight(5.0, 1.0, [2.0, 1.0], [1.0, 1.0], temperature=2.0) == pytest.approx(expected)
    assert expected > 0.2  # the slower-converging CSC task gains weight


def test_gdwa_weighting_uses_the_epoch_history():
    w = GDWAWeighting(temperature=2.0)
    assert w.needs_task_gradients
    w.begin_epoch([2.0, 1.0], [1.0, 1.0])
    c_fus, c_csc = w.coefficients(1.0, 1.0, 5.0, 1.0)
    assert c_fus == 1.0 and c_csc == pytest.approx(gdwa_weight(5.0, 1.0, [2.0, 1.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="gradient"):
        w.coefficients(1.0, 1.0)
