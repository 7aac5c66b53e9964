"""Segmentation fine-tuning stage on tiny synthetic data: outputs, determinism, resume, init checkpoint."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from pipeline.data.io import read_label
from pipeline.data.raw_layout import pair_paths
from pipeline.data.registry import DATASETS
from pipeline.downstream.seg_data import SegmentationSamples
from pipeline.downstream.seg_finetune import FinetuneConfig, finetune
from pipeline.downstream.fused_segmenter import FusedImageSegmenter, load_local_checkpoint

TINY = dict(hidden_sizes=[8, 8, 16, 16], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1], decoder_hidden_size=16)


def run_stage(tmp_path, raw, fused, split, out_name="m-fmb", init=None):
    from stages.segment import main

    from .conftest import conditions_file, starting_point

    out = tmp_path / "out"
    init = init or starting_point(tmp_path / "weights" / "segmenter-fmb")
    args = ["--method", "m", "--dataset", "fmb", "--fused", str(fused), "--raw", str(raw), "--split", str(split),
            "--init", str(init), "--conditions", str(conditions_file(tmp_path / "conditions.json", split, "fmb")),
            "--out", str(out / f"{out_name}.json"), "--predictions", str(out / out_name),
            "--confusion-csv", str(out / f"{out_name}-confusion.csv"),
            "--confusion-png", str(out / f"{out_name}-confusion.png"), "--work", str(tmp_path / "work")]
    return CliRunner().invoke(main, args, catch_exceptions=False), out


@pytest.mark.slow  # two stage runs, ~10 s on one CPU thread
def test_stage_writes_wellformed_outputs_offline(tmp_path, seg_inputs, tiny_params, no_network):
    result, out = run_stage(tmp_path, *seg_inputs)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "m-fmb.json").read_text())
    classes = DATASETS["fmb"].classes
    assert set(report["IoU"]) == set(classes)
    assert 0.0 <= report["mIoU"] <= 100.0
    assert "Pole" in report["absent_classes"] and report["IoU"]["Pole"] is None  # no Pole pixels in the fixture
    assert report["epochs_trained"] == 2 and report["init"] == {"source": "scratch"}
    # The test split's conditions (day, night alternately in the fixture) each get their own IoU.
    assert set(report["by_condition"]) <= {"day", "night"} and report["by_condition"]
    assert sum(c["images"] for c in report["by_condition"].values()) == len(json.loads(seg_inputs[2].read_text())["test"])
    assert [h["frozen"] for h in report["history"]] == [True, False]
    rows = (out / "m-fmb-confusion.csv").read_text().splitlines()
    assert rows[0] == "actual,predicted,count" and len(rows) == 1 + len(classes) ** 2
    total = sum(int(r.rsplit(",", 1)[1]) for r in rows[1:])
    assert total == 2 * 48 * 64  # two test images, every pixel labelled
    assert Image.open(out / "m-fmb-confusion.png").format == "PNG"
    predictions = sorted((out / "m-fmb").glob("*.png"))
    assert [p.stem for p in predictions] == json.loads(seg_inputs[2].read_text())["test"]
    assert Image.open(predictions[0]).mode == "P"
    # A second run reuses the finished work dir and gives the same bytes.
    first = (out / "m-fmb.json").read_bytes()
    result, out = run_stage(tmp_path, *seg_inputs)
    assert "resuming after epoch 2" in result.output
    assert (out / "m-fmb.json").read_bytes() == first


def test_missing_starting_point_is_a_clear_error(tmp_path, seg_inputs, tiny_params):
    (tmp_path / "empty").mkdir()
    from pipeline.downstream.starting_point import StartingPointError

    with pytest.raises(StartingPointError, match="weights.json not found: run the weights stage"):
        run_stage(tmp_path, *seg_inputs, init=tmp_path / "empty")


def test_stage_starts_from_the_given_segmenter(tmp_path, seg_inputs, tiny_params):
    """A synthetic starting point is loaded (all tensors) and named in the output JSON."""
    from .conftest import starting_point

    torch.manual_seed(1)
    folder = starting_point(tmp_path / "weights" / "seg", "synthetic")
    FusedImageSegmenter(15, **TINY).segformer.save_pretrained(folder)
    tiny_params(segment={"epochs": 1, "freeze_epochs": 1})
    result, out = run_stage(tmp_path, *seg_inputs, init=folder)
    assert "(synthetic): " in result.output and " 0 skipped" in result.output
    assert json.loads((out / "m-fmb.json").read_text())["init"] == {"source": "synthetic"}


def test_local_checkpoint_loads_and_skips_other_class_count(tmp_path):
    torch.manual_seed(0)
    source = FusedImageSegmenter(9, **TINY)  # e.g. SegMiF's 9-class weights
    path = tmp_path / "segmif.pt"
    torch.save({"state_dict": source.segformer.state_dict()}, path)
    target = FusedImageSegmenter(15, **TINY)
    info = load_local_checkpoint(target, path)
    assert info["skipped"] == ["decode_head.classifier.bias", "decode_head.classifier.weight"]
    key = "segformer.stages.0.patch_embeddings.proj.weight"
    assert torch.equal(target.segformer.state_dict()[key], source.segformer.state_dict()[key])


def _samples(raw, fused, split_file, part):
    spec, stems = DATASETS["fmb"], json.loads(split_file.read_text())[part]
    pairs = [(fused / f"{s}.png", pair_paths(spec, raw, s, part)["label"]) for s in stems]
    return SegmentationSamples(pairs, read_label, spec.num_classes)


def test_interrupted_finetune_resumes_to_the_same_model(tmp_path, seg_inputs):
    cfg = FinetuneConfig(epochs=3, freeze_epochs=1, batch=2, lr=5e-4, lr_unfrozen=3e-5, patience=5, crop=32, seed=0)
    train, val = _samples(*seg_inputs, "train"), _samples(*seg_inputs, "val")
    classes = DATASETS["fmb"].classes

    def fresh():
        torch.manual_seed(0)
        return FusedImageSegmenter(len(classes), **TINY)

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    whole, history = finetune(fresh(), train, val, classes, cfg, tmp_path / "a", log=lambda s: None)

    def interrupt(line):
        if "epoch 2/3" in line:
            raise KeyboardInterrupt  # before epoch 2's checkpoint is written
    with pytest.raises(KeyboardInterrupt):
        finetune(fresh(), train, val, classes, cfg, tmp_path / "b", log=interrupt)
    resumed, history_b = finetune(fresh(), train, val, classes, cfg, tmp_path / "b", log=lambda s: None)
    assert history_b == history
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    with pytest.raises(RuntimeError, match="another configuration"):
        finetune(fresh(), train, val, classes, replace(cfg, lr=1e-3), tmp_path / "b", log=lambda s: None)


def test_size_mismatch_names_the_files(tmp_path, seg_inputs):
    raw, fused, split_file = seg_inputs
    stem = json.loads(split_file.read_text())["train"][0]
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(fused / f"{stem}.png")
    with pytest.raises(ValueError, match=f"{stem}.png is 10x10 but its label"):
        _samples(raw, fused, split_file, "train")[0]


def test_save_pretrained_directory_loads_offline(tmp_path, no_network):
    torch.manual_seed(0)
    source = FusedImageSegmenter(15, **TINY)
    source.segformer.save_pretrained(tmp_path / "ckpt")
    target = FusedImageSegmenter(15, **TINY)
    info = load_local_checkpoint(target, tmp_path / "ckpt")
    assert info["skipped"] == []
    assert all(torch.equal(v, source.segformer.state_dict()[k]) for k, v in target.segformer.state_dict().items())


def test_save_pretrained_directory_of_other_class_count_keeps_own_classifier(tmp_path, no_network):
    # transformers re-draws mismatched tensors at random; they must be reported, not loaded.
    torch.manual_seed(0)
    FusedImageSegmenter(9, **TINY).segformer.save_pretrained(tmp_path / "ckpt9")
    torch.manual_seed(1)
    target = FusedImageSegmenter(15, **TINY)
    before = {k: v.clone() for k, v in target.segformer.state_dict().items()}
    info = load_local_checkpoint(target, tmp_path / "ckpt9")
    assert info["skipped"] == ["decode_head.classifier.bias", "decode_head.classifier.weight"]
    after = target.segformer.state_dict()
    assert torch.equal(after["decode_head.classifier.weight"], before["decode_head.classifier.weight"])
    key = "segformer.stages.0.patch_embeddings.proj.weight"  # the encoder did load
    assert key in after and not torch.equal(after[key], before[key])
