"""Converter checks: every bad key named, wrappers accepted, the model file `ssvif fuse` reads."""
from __future__ import annotations

import pytest
import torch
import yaml
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.models.model_file import load_fusion_checkpoint
from pipeline.originals import keymaps
from pipeline.originals.convert import ConversionError, build_model, convert, convert_state, write_model_file
from pipeline.originals.sources import RELEASED_WIDTHS, RELEASES
from tests.originals.conftest import GOLDEN

ARCHS = sorted(RELEASES)


def _original_layout(arch: str, model=None) -> dict[str, torch.Tensor]:
    """A state dict in the original's key layout, made from a project model (no golden needed)."""
    model = model or build_model(arch)
    return {keymaps.to_original(arch, k): v for k, v in model.state_dict().items()}


@pytest.mark.parametrize("arch", ARCHS)
def test_original_layout_round_trips(arch):
    model = build_model(arch)
    state = model.state_dict()
    converted = convert_state(arch, _original_layout(arch, model))
    assert converted.keys() == state.keys()
    assert all(torch.equal(converted[k], state[k]) for k in state)


@pytest.mark.parametrize("arch", ARCHS)
def test_missing_key_is_named(arch):
    original = _original_layout(arch)
    gone = next(iter(original))
    del original[gone]
    with pytest.raises(ConversionError, match=f"missing key '{gone}'") as err:
        convert_state(arch, original)
    assert "Fix:" in str(err.value) and RELEASES[arch].path in str(err.value)


@pytest.mark.parametrize("arch", ARCHS)
def test_unexpected_key_is_named(arch):
    original = _original_layout(arch)
    original["extra_head.weight"] = torch.zeros(3)
    with pytest.raises(ConversionError, match="unexpected key 'extra_head.weight'"):
        convert_state(arch, original)


@pytest.mark.parametrize("arch", ARCHS)
def test_wrong_shape_is_named(arch):
    original = _original_layout(arch)
    key = next(k for k, v in original.items() if v.dim() == 4)
    original[key] = torch.zeros(original[key].shape[0] + 1, *original[key].shape[1:])
    with pytest.raises(ConversionError, match=f"wrong shape for '{key}'"):
        convert_state(arch, original)


def test_swinfusion_derived_buffers_are_accepted():
    """The release stores relative_position_index and attn_mask (shaped by img_size=128): recomputed, ignored."""
    original = _original_layout("swinfusion")
    original["layers_Re.0.residual_group.blocks.1.attn_mask"] = torch.zeros(256, 64, 64)
    original["layers_Re.0.residual_group.blocks.1.attn.relative_position_index"] = torch.zeros(64, 64, dtype=torch.long)
    assert convert_state("swinfusion", original).keys() == build_model("swinfusion").state_dict().keys()


@pytest.mark.parametrize("wrapper", ["params", "state_dict"])
def test_wrapped_checkpoint_is_unwrapped(wrapper, tmp_path):
    path = tmp_path / "wrapped.pth"
    torch.save({wrapper: _original_layout("seafusion")}, path)
    assert convert("seafusion", path).keys() == build_model("seafusion").state_dict().keys()


def test_released_widths_are_the_paper_params():
    params = yaml.safe_load((GOLDEN.parents[2] / "params.yaml").read_text())["paper"]["models"]
    for arch, widths in RELEASED_WIDTHS.items():
        assert {k: v for k, v in widths.items() if k != "fusion_residual"} == params[arch]


def test_model_file_is_read_by_fuse(tmp_path):
    path, reference = tmp_path / "orig.pth", build_model("emma")
    torch.save(_original_layout("emma", reference), path)
    out = write_model_file("emma", path, tmp_path / "emma-original.pt")
    model, channels = load_fusion_checkpoint(out, "cpu")
    assert channels == 1
    x = torch.rand(1, 1, 16, 24)
    with torch.no_grad():
        assert torch.equal(model(x, x), reference(x, x))


def test_cli_converts_and_reports_bad_keys(tmp_path):
    good, bad = tmp_path / "good.pth", tmp_path / "bad.pth"
    original = _original_layout("swinfusion")
    torch.save(original, good)
    del original["conv_last3.bias"]
    torch.save(original, bad)
    result = CliRunner().invoke(main, ["convert-original", "swinfusion", str(good), "--out", str(tmp_path / "s.pt")])
    assert result.exit_code == 0, result.output
    assert load_fusion_checkpoint(tmp_path / "s.pt", "cpu")[0].fusion_residual is False
    result = CliRunner().invoke(main, ["convert-original", "swinfusion", str(bad), "--out", str(tmp_path / "b.pt")])
    assert result.exit_code != 0 and "missing key 'conv_last3.bias'" in result.output
    assert not (tmp_path / "b.pt").exists()


def test_cli_help_names_the_official_files():
    result = CliRunner().invoke(main, ["convert-original", "--help"])
    for repo, path in ((r.repo, r.path) for r in RELEASES.values()):
        assert repo in result.output and path in result.output
