"""A model is fused exactly as it was trained: the fuse paths feed it the training step's tensors.

The training step (pipeline.train.step.fusion_step on PairDataset batches) and both fuse paths
(the fuse stage, stages.fuse, and `ssvif fuse`) run on the same images of a synthetic FMB; every
call of the model's `features(ir, vis)` is recorded, and the fuse paths must hand it identical
tensors, in the same order: a swap of infrared and visible, another channel order or another
normalisation at fuse time alone fails here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from pipeline.models.registry import FUSION_MODELS

PARAMS = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from pipeline.data.dataset_sources import fetch_synthetic
    from pipeline.data.registry import get_dataset

    tmp = tmp_path_factory.mktemp("train-fuse-inputs")
    fetch_synthetic(get_dataset("fmb"), tmp / "raw", 0, {"train": 3, "test": 1, "height": 40, "width": 56})
    # train and val stems only: the training data reads them from the official training folder
    split = {"dataset": "fmb", "seed": 0, "rule": "test", "train": ["00001", "00002"], "val": ["00003"], "test": []}
    (tmp / "split.json").write_text(json.dumps(split))
    return tmp, split


@pytest.fixture
def recorded(monkeypatch):
    """Every (ir, vis) a fusion model's `features` receives, any instance of its class (loaded ones too)."""
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def record(cls):
        original = cls.features

        def features(self, ir, vis):
            calls.append((ir.detach().clone(), vis.detach().clone()))
            return original(self, ir, vis)

        monkeypatch.setattr(cls, "features", features)
        return calls

    return record


def _model(name: str, channels: int):
    from pipeline.models.registry import create_fusion_model

    torch.manual_seed(0)
    return create_fusion_model(name, channels, **PARAMS["quick"]["models"][name]).eval()


def _training_inputs(model, channels: int, root: Path, stems: list[str], calls: list) -> list:
    """What the training step feeds the model: whole images (PairDataset, no crop) through fusion_step."""
    from pipeline.data.registry import get_dataset
    from pipeline.train.data import validation_batches
    from pipeline.train.step import fusion_step

    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # the step runs; the weights stay
    for batch in validation_batches(get_dataset("fmb"), root, stems):
        fusion_step(model, lambda _m, fused, _i, _v: fused.mean(), optimizer, batch, channels, torch.device("cpu"))
    seen = list(calls)
    calls.clear()
    return seen


def _assert_same(trained: list, fused: list, channels: int) -> None:
    assert len(trained) == len(fused) > 0
    for (ir_t, vis_t), (ir_f, vis_f) in zip(trained, fused):
        assert ir_t.shape == ir_f.shape == vis_f.shape[:1] + (channels,) + vis_f.shape[2:]
        assert torch.equal(ir_t, ir_f), "the fuse path feeds the model another infrared input than training"
        assert torch.equal(vis_t, vis_f), "the fuse path feeds the model another visible input than training"
        assert not torch.equal(ir_f, vis_f)  # the two inputs differ: a swap cannot pass unnoticed


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", list(FUSION_MODELS))
def test_fuse_stage_feeds_the_model_as_training_does(data, recorded, monkeypatch, name, channels, tmp_path):
    from stages.fuse import _fuse_dataset

    root, split = data
    model = _model(name, channels)
    calls = recorded(type(model))
    trained = _training_inputs(model, channels, root / "raw", split["train"] + split["val"], calls)
    monkeypatch.setenv("SSVIF_FUSE_WORKERS", "1")  # one image at a time: the split's order
    _fuse_dataset(model, channels, "fmb", root / "raw", root / "split.json", tmp_path / "out", lambda _: None, 1)
    _assert_same(trained, calls, channels)


@pytest.mark.parametrize("channels", [1, 3])
def test_ssvif_fuse_feeds_the_model_as_training_does(data, recorded, monkeypatch, channels, tmp_path):
    """`ssvif fuse` (pipeline.fuse.command): a model.pt, folders of your own pairs."""
    import shutil

    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.fuse.command import fuse

    root, split = data
    model = _model("seafusion", channels)
    calls = recorded(type(model))
    stems = split["train"] + split["val"]
    trained = _training_inputs(model, channels, root / "raw", stems, calls)
    for stem in stems:
        paths = pair_paths(get_dataset("fmb"), root / "raw", stem, "train")
        for key in ("ir", "vis"):
            (tmp_path / key).mkdir(exist_ok=True)
            shutil.copy(paths[key], tmp_path / key / paths[key].name)
    checkpoint = tmp_path / "model.pt"
    torch.save({"name": "seafusion", "channels": channels, "widths": PARAMS["quick"]["models"]["seafusion"],
                "state_dict": model.state_dict()}, checkpoint)
    monkeypatch.setenv("SSVIF_FUSE_WORKERS", "1")
    args = ["--checkpoint", checkpoint, "--ir", tmp_path / "ir", "--vis", tmp_path / "vis", "--out", tmp_path / "out",
            "--device", "cpu"]
    result = CliRunner().invoke(fuse, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _assert_same(trained, calls, channels)  # `ssvif fuse` goes by sorted stem: the same order here
