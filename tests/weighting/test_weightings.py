import math

import pytest
import torch

from pipeline.weighting.dwa import dwa_weights
from pipeline.weighting.registry import WEIGHTINGS, create_weighting

PARAMS = dict(fixed_w=0.1, gdwa_temperature=2.0, dwa_temperature=2.0, segmif_temperature=1000.0,
              segmif_warmup_iters=2, ucw_init=-0.5)


def test_registry_names_equal_the_params_choices():
    from pipeline.params import WEIGHTINGS as NAMES

    assert tuple(WEIGHTINGS) == NAMES


def test_unknown_weighting_lists_valid_names():
    with pytest.raises(KeyError, match="gdwa"):
        create_weighting("gdwx", PARAMS)


def test_fixed():
    assert create_weighting("fixed", PARAMS).coefficients(3.0, 7.0) == (1.0, 0.1)


def test_dwa_is_one_for_two_epochs_then_softmax_of_descent_rates():
    assert dwa_weights([1.0], [1.0]) == (1.0, 1.0)
    w_fus, w_csc = dwa_weights([2.0, 1.0], [1.0, 1.0], temperature=2.0)
    e1, e2 = math.exp(0.25), math.exp(0.5)
    assert (w_fus, w_csc) == (pytest.approx(2 * e1 / (e1 + e2)), pytest.approx(2 * e2 / (e1 + e2)))
    dwa = create_weighting("dwa", PARAMS)
    dwa.begin_epoch([2.0, 1.0], [1.0, 1.0])
    assert dwa.coefficients(0.0, 0.0) == (pytest.approx(w_fus), pytest.approx(w_csc))


def test_ucw_coefficients_and_learnable_log_variances():
    ucw = create_weighting("ucw", PARAMS)
    c_fus, c_csc = ucw.coefficients(1.0, 1.0)
    assert c_fus == pytest.approx(0.5 * math.exp(0.5)) and c_csc == pytest.approx(c_fus)
    loss = ucw.parameter_loss(torch.tensor(2.0), torch.tensor(0.5))
    loss.backward()
    # d/ds [1/2 e^{-s} L + 1/2 s] = -1/2 e^{-s} L + 1/2 at s = -0.5
    expected = [-0.5 * math.exp(0.5) * 2.0 + 0.5, -0.5 * math.exp(0.5) * 0.5 + 0.5]
    assert ucw.log_vars.grad.tolist() == pytest.approx(expected)


def test_segmif_warms_up_then_follows_batch_loss_ratios():
    w = create_weighting("segmif", PARAMS)
    assert w.coefficients(1.0, 1.0) == (1.0, pytest.approx(2.0))  # 0.8 / 0.4 during warm-up
    w.coefficients(1.0, 1.0)
    c_fus, c_csc = w.coefficients(1.0, 1.0)  # after warm-up, T = 1000: b_fus ~ b_seg ~ 1
    assert c_csc == pytest.approx(2.0, rel=1e-3)
    state = w.get_extra_state()
    other = create_weighting("segmif", PARAMS)
    other.set_extra_state(state)
    assert other.coefficients(2.0, 1.0) == w.coefficients(2.0, 1.0)
