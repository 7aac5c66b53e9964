"""EMMA's pseudo-sensing networks: deterministic training, the folder's files, the stage, a run that uses them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from pipeline.originals import sensing as sn
from tests.downstream.conftest import make_segmentation_inputs

ROOT = Path(__file__).resolve().parents[2]
TINY = {"variant": "learned", "epochs": 2, "crop": 16, "stride": 16, "batch": 4, "lr": 1e-3, "step_size": 1,
        "gamma": 0.5, "widths": [2, 2, 4, 4, 4]}


def _pairs(seed=0, n=3):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        ir, vis = torch.rand(1, 32, 32, generator=g), torch.rand(1, 32, 32, generator=g)
        out.append((torch.maximum(ir, vis), ir, vis))
    return out


def test_config_defaults_are_train_aiav_and_bad_settings_are_refused():
    cfg = sn.SensingConfig()
    assert (cfg.epochs, cfg.lr, cfg.batch, cfg.step_size, cfg.gamma, cfg.crop, cfg.stride) == (40, 1e-4, 64, 10, 0.5, 128, 200)
    with pytest.raises(ValueError, match="variant"):
        sn.SensingConfig.from_params({"variant": "oracle"})
    with pytest.raises(ValueError, match="unknown"):
        sn.SensingConfig.from_params({"epoch": 3})
    with pytest.raises(ValueError, match="multiple of 16"):
        sn.SensingConfig.from_params({"crop": 24})


def test_patches_skip_low_contrast_ones():
    flat = torch.full((1, 32, 32), 0.5)
    textured = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0))
    inputs, targets = sn.sensing_patches([(textured, flat, textured)], "vis", 16, 16)
    assert inputs.shape == targets.shape == (4, 1, 16, 16)  # 2 x 2 grid, all contrasted
    with pytest.raises(ValueError, match="contrasted"):
        sn.sensing_patches([(textured, flat, textured)], "ir", 16, 16)  # a flat infrared target


def test_training_is_deterministic_and_the_folder_loads(tmp_path):
    cfg = sn.SensingConfig.from_params(TINY)
    a_i, a_v, summary = sn.train_sensing(_pairs(), cfg, seed=3)
    again_i, _, _ = sn.train_sensing(_pairs(), cfg, seed=3)
    assert summary["Ai"]["patches"] == 12 and len(summary["Av"]["mse_per_epoch"]) == 2
    for key, value in a_i.state_dict().items():
        assert torch.equal(value, again_i.state_dict()[key]), key
    for folder in (tmp_path / "a", tmp_path / "b"):
        sn.save_sensing(folder, a_i, a_v, {"variant": "learned", "settings": sn.settings_record(cfg)})
    assert (tmp_path / "a" / "Ai.pth").read_bytes() == (tmp_path / "b" / "Ai.pth").read_bytes()
    loaded_i, loaded_v, info = sn.load_sensing(tmp_path / "a")
    x = torch.rand(1, 1, 16, 16)
    assert torch.equal(loaded_i(x), a_i(x)) and torch.equal(loaded_v(x), a_v(x))
    assert not any(p.requires_grad for p in loaded_i.parameters()) and not loaded_i.training
    # plain state dicts in the released key layout (the released Ai.pth / Av.pth load the same way)
    assert set(torch.load(tmp_path / "a" / "Av.pth")) == set(sn.UNet5().state_dict())


def _project(tmp_path, variant="learned"):
    raw, fused, split = make_segmentation_inputs(tmp_path, "fmb", counts=(4, 1, 1), size=(48, 64))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["sensing"] = {**TINY, "variant": variant}
    params["quick"]["original"].update(epochs=1, max_steps_per_epoch=1, crop=32)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return raw, fused, split


def _invoke(command, args, tmp_path, monkeypatch, code=0):
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    result = CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_stage_writes_the_folder_and_an_emma_run_trains_with_it(tmp_path, monkeypatch):
    from stages import sensing, train

    raw, fused, split = _project(tmp_path)
    args = ["--dataset", "fmb", "--raw", raw, "--split", split, "--fused", fused]
    _invoke(sensing.main, args + ["--out", tmp_path / "s1"], tmp_path, monkeypatch)
    _invoke(sensing.main, args + ["--out", tmp_path / "s2"], tmp_path, monkeypatch)
    for name in ("Ai.pth", "Av.pth", "sensing.json"):
        assert (tmp_path / "s1" / name).read_bytes() == (tmp_path / "s2" / name).read_bytes(), name
    info = json.loads((tmp_path / "s1" / "sensing.json").read_text())
    assert info["variant"] == "learned" and info["dataset"] == "fmb" and info["settings"]["widths"] == TINY["widths"]

    run = ["--run", "original-emma-fmb", "--raw", raw, "--split", split, "--history", tmp_path / "h.csv",
           "--work", tmp_path / "work"]
    result = _invoke(train.main, run + ["--out", tmp_path / "run"], tmp_path, monkeypatch, code=1)
    assert "--sensing" in result.output  # learned sensing without the folder is refused
    _invoke(train.main, run + ["--out", tmp_path / "run", "--sensing", tmp_path / "s1"], tmp_path, monkeypatch)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "learned pseudo-sensing" in config["original_variant"]
    assert config["sensing"]["files"] == sn.file_digests(tmp_path / "s1")
    bad = ["--run", "original-seafusion-fmb", *run[2:], "--out", tmp_path / "sea", "--sensing", tmp_path / "s1"]
    assert "not an original EMMA run" in _invoke(train.main, bad, tmp_path, monkeypatch, code=1).output


def test_ideal_variant_trains_nothing_and_keeps_the_run_record(tmp_path, monkeypatch):
    from stages import sensing
    from stages.train import settings

    raw, fused, split = _project(tmp_path, "ideal")
    _invoke(sensing.main, ["--dataset", "fmb", "--raw", raw, "--split", split, "--fused", fused,
                           "--out", tmp_path / "s"], tmp_path, monkeypatch)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["sensing.json"]
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    ideal = settings(params, "original-emma-fmb")
    del params["quick"]["sensing"]  # params.yaml before the block existed
    before = settings(params, "original-emma-fmb")
    assert not ideal.learned_sensing and ideal.record() == before.record() and ideal.digest() == before.digest()


def test_paper_profile_trains_the_sensing_nets_as_emma_and_quick_parses():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert sn.SensingConfig.from_params(params["paper"]["sensing"]) == sn.SensingConfig()  # train_AiAv.py's numbers
    assert sn.SensingConfig.from_params(params["quick"]["sensing"]).variant == "learned"
