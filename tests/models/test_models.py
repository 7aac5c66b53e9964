"""Fusion models: exact parameter counts (Table IV, docs/models.md), shapes, features/decode split."""
from __future__ import annotations

import pytest
import torch

from pipeline.models.complexity import count_parameters
from pipeline.models.registry import FUSION_MODELS, create_fusion_model

# Re-implementations of the original code (docs/models.md), registered-but-unused modules included.
EXPECTED_PARAMS = {
    ("swinfusion", 3): 975_033, ("seafusion", 3): 167_753, ("emma", 3): 1_518_091,
    ("swinfusion", 1): 973_681, ("seafusion", 1): 166_883, ("emma", 1): 1_517_657,
}
NAMES = sorted(FUSION_MODELS)


def test_registry_names_match_params(paper_widths, quick_widths):
    assert set(FUSION_MODELS) == set(paper_widths) == set(quick_widths)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="swinfusion, seafusion, emma"):
        create_fusion_model("densefuse", 3)


def test_bad_widths_name_the_params_key():
    with pytest.raises(ValueError, match="models.seafusion"):
        create_fusion_model("seafusion", 3, depth=3)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_at_paper_widths(name, channels, paper_widths):
    model = create_fusion_model(name, channels, **paper_widths[name])
    assert count_parameters(model) == EXPECTED_PARAMS[(name, channels)]


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("name", NAMES)
def test_odd_size_forward_and_split(name, channels, quick_widths):
    torch.manual_seed(0)
    model = create_fusion_model(name, channels, **quick_widths[name]).eval()
    ir, vis = torch.rand(2, channels, 37, 53), torch.rand(2, channels, 37, 53)
    with torch.no_grad():
        fused = model(ir, vis)
        features = model.features(ir, vis)
        again = model.decode(features)
    assert fused.shape == (2, channels, 37, 53)
    assert torch.isfinite(fused).all()
    torch.testing.assert_close(again, fused)
    feats = features if isinstance(features, list) else [features]
    widths = model.feature_channels if isinstance(model.feature_channels, list) else [model.feature_channels]
    assert [f.shape[1] for f in feats] == widths
    assert feats[0].shape[-2:] == (37, 53)  # full-resolution features cover the image area only


@pytest.mark.parametrize("name", NAMES)
def test_backward_reaches_every_used_parameter(name, quick_widths):
    model = create_fusion_model(name, 3, **quick_widths[name])
    x = torch.rand(1, 3, 16, 24)
    model(x, x).mean().backward()
    unused = {n for n, p in model.named_parameters() if p.grad is None}
    # Only the modules the original registers but never calls may stay without gradient.
    assert all(("_B" in n and "conv_first" in n) or ".bn." in n for n in unused), unused


def test_output_ranges(quick_widths):
    x = torch.rand(1, 3, 16, 16)
    for name in ("seafusion", "emma"):  # tanh/2+0.5 and sigmoid outputs
        out = create_fusion_model(name, 3, **quick_widths[name])(x, x)
        assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("size", [(1, 1), (3, 5), (8, 8), (9, 17)])
@pytest.mark.parametrize("name", NAMES)
def test_tiny_sizes(name, size, quick_widths):
    model = create_fusion_model(name, 1, **quick_widths[name]).eval()
    x = torch.rand(1, 1, *size)
    if name == "emma" and min(size) < 9:
        with pytest.raises(ValueError, match="at least 9x9"):
            model(x, x)
        return
    with torch.no_grad():
        assert model(x, x).shape == (1, 1, *size)
