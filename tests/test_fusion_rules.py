"""Classical fusion rules: what each one keeps from which source."""
from __future__ import annotations

import pytest
import torch
from kornia.color import rgb_to_ycbcr

from pipeline.rules.registry import FUSION_RULES, get_rule, to_uint8


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    # mid-range IR and weakly coloured visible: no RGB channel clips after fusion
    return torch.rand(2, 1, 8, 10, generator=g) * 0.6 + 0.2, torch.rand(2, 3, 8, 10, generator=g) * 0.2 + 0.4


@pytest.mark.parametrize("name", list(FUSION_RULES))
def test_every_rule_gives_rgb_in_range(name, pair):
    out = get_rule(name)(*pair)
    assert out.shape == (2, 3, 8, 10) and out.min() >= 0 and out.max() <= 1


def test_luminance_rules_keep_visible_chroma(pair):
    ir, vis = pair
    y_vis = rgb_to_ycbcr(vis)[:, :1]
    for name, expected in (("max", torch.maximum(ir, y_vis)), ("mean", (ir + y_vis) / 2)):
        ycc = rgb_to_ycbcr(get_rule(name)(ir, vis))
        torch.testing.assert_close(ycc[:, :1], expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(ycc[:, 1:], rgb_to_ycbcr(vis)[:, 1:], atol=1e-5, rtol=0)


def test_source_baselines(pair):
    ir, vis = pair
    assert torch.equal(get_rule("visible")(ir, vis), vis)
    assert torch.equal(get_rule("infrared")(ir, vis), ir.expand(-1, 3, -1, -1))
    assert to_uint8(vis).dtype == torch.uint8 and to_uint8(vis).shape == (2, 8, 10, 3)
    with pytest.raises(KeyError, match="valid names"):
        get_rule("min")
