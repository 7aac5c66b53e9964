"""`ssvif convert-segmif`: SegMiF/WeTr checkpoint -> SegFormer folder, checked against golden logits."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from pipeline.downstream.segmif_convert import (ConversionError, convert_segmif_checkpoint, convert_segmif_state,
                                                read_segmif_state)


@pytest.fixture(scope="module")
def golden(request):
    shared = request.getfixturevalue("shared_dir") / "golden" / "segmif"
    if not (shared / "segmif_tiny.pth").is_file():
        pytest.skip(f"golden SegMiF checkpoint not found in {shared}")
    meta = json.loads((shared / "segmif_tiny.json").read_text())["config"]
    return dict(dir=shared, pth=shared / "segmif_tiny.pth", heads=meta["num_heads"], sr=meta["sr_ratios"],
                io=torch.load(shared / "segmif_tiny_io.pt", weights_only=True), meta=meta)


@pytest.fixture(scope="module")
def converted(golden, tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "segmif"
    record = convert_segmif_checkpoint(golden["pth"], out, golden["heads"], golden["sr"])
    return out, record


def _state(golden):
    return read_segmif_state(golden["pth"])


def test_golden_logits_through_from_pretrained(golden, converted):
    from transformers import SegformerForSemanticSegmentation

    out, record = converted
    model = SegformerForSemanticSegmentation.from_pretrained(out, local_files_only=True).eval()
    with torch.no_grad():
        logits = model(pixel_values=golden["io"]["input"]).logits
    assert logits.shape == golden["io"]["logits"].shape
    assert (logits - golden["io"]["logits"]).abs().max().item() <= 1e-5
    assert record["report"]["dropped"] == ["classifier.weight"]
    assert record["config"]["hidden_sizes"] == golden["meta"]["embed_dims"]
    assert record["config"]["depths"] == golden["meta"]["depths"]
    assert record["config"]["decoder_hidden_size"] == golden["meta"]["decoder_embedding_dim"]


def test_golden_logits_through_segment_stage_loader(golden, converted):
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter, load_local_checkpoint

    out, record = converted
    cfg = record["config"]
    model = FusedImageSegmenter(cfg["num_labels"], cfg["hidden_sizes"], cfg["depths"], cfg["num_attention_heads"],
                                cfg["decoder_hidden_size"])
    loaded = load_local_checkpoint(model, out)
    assert loaded["skipped"] == []
    # the segment stage's config is the converter's: same JSON, so nothing was silently re-sized
    written = json.loads((out / "config.json").read_text())
    assert written.pop("architectures") == ["SegformerForSemanticSegmentation"] and written.pop("dtype") == "float32"
    assert json.loads(model.segformer.config.to_json_string()) == written
    model.eval()
    with torch.no_grad():
        logits = model.segformer(pixel_values=golden["io"]["input"]).logits
    assert (logits - golden["io"]["logits"]).abs().max().item() <= 1e-5


def test_missing_key_is_named(golden):
    state = _state(golden)
    del state["encoder.block2.1.attn.q.bias"]
    with pytest.raises(ConversionError, match=r"missing key.*encoder\.block2\.1\.attn\.q\.bias"):
        convert_segmif_state(state, golden["heads"], golden["sr"])


def test_missing_size_key_and_optional_batch_count(golden):
    state = _state(golden)
    del state["encoder.patch_embed2.proj.weight"]
    with pytest.raises(ConversionError, match=r"cannot read the model's sizes.*encoder\.patch_embed2\.proj\.weight"):
        convert_segmif_state(state, golden["heads"], golden["sr"])
    state = _state(golden)
    del state["decoder.linear_fuse.bn.num_batches_tracked"]
    _, _, report = convert_segmif_state(state, golden["heads"], golden["sr"])
    assert report["filled"] == ["decode_head.batch_norm.num_batches_tracked"]


def test_wrong_shape_names_key_and_shapes(golden):
    state = _state(golden)
    state["encoder.block3.0.mlp.fc2.weight"] = torch.zeros(24, 95)
    with pytest.raises(ConversionError) as err:
        convert_segmif_state(state, golden["heads"], golden["sr"])
    assert "encoder.block3.0.mlp.fc2.weight" in str(err.value)
    assert "(24, 95)" in str(err.value) and "(24, 96)" in str(err.value)


def test_unknown_key_is_an_error(golden):
    state = _state(golden)
    state["encoder.extra_token"] = torch.zeros(3)
    state["decoder.linear_fuse.bn.scale"] = torch.zeros(16)  # a rule matches the prefix, the model has no such tensor
    with pytest.raises(ConversionError, match="unknown key") as err:
        convert_segmif_state(state, golden["heads"], golden["sr"])
    assert "encoder.extra_token" in str(err.value) and "decoder.linear_fuse.bn.scale" in str(err.value)


def test_sr_ratios_and_heads_are_checked(golden):
    with pytest.raises(ConversionError, match=r"attn\.sr kernels say \[8, 4, 2, 1\]"):
        convert_segmif_state(_state(golden), golden["heads"], (4, 4, 2, 1))
    with pytest.raises(ConversionError, match="stage 3: 24 channels, 5 heads"):
        convert_segmif_state(_state(golden), (1, 2, 5, 8), golden["sr"])


def test_module_prefix_and_bare_state(golden, tmp_path):
    reference = _state(golden)
    torch.save({f"module.{k}": v for k, v in reference.items()}, tmp_path / "dp.pth")
    torch.save(dict(reference), tmp_path / "bare.pth")
    torch.save({"model": {f"module.{k}": v for k, v in reference.items()}}, tmp_path / "model.pth")
    _, expected, _ = convert_segmif_state(reference, golden["heads"], golden["sr"])
    for name in ("dp.pth", "bare.pth", "model.pth"):
        state = read_segmif_state(tmp_path / name)
        assert state.keys() == reference.keys()
        _, new, _ = convert_segmif_state(state, golden["heads"], golden["sr"])
        assert all(torch.equal(new[k], expected[k]) for k in expected)


def test_classifier_reinitialised_deterministically(golden):
    _, first, report = convert_segmif_state(_state(golden), golden["heads"], golden["sr"], num_classes=15)
    config, again, _ = convert_segmif_state(_state(golden), golden["heads"], golden["sr"], num_classes=15)
    assert report["classifier_reinitialised"]["from"] == 9 and report["classifier_reinitialised"]["to"] == 15
    assert config.num_labels == 15 and first["decode_head.classifier.weight"].shape == (15, 16, 1, 1)
    assert torch.equal(first["decode_head.classifier.weight"], again["decode_head.classifier.weight"])
    assert not first["decode_head.classifier.bias"].any()


def test_cli_writes_folder_and_is_byte_identical(golden, tmp_path):
    from pipeline.cli import main

    heads, sr = ",".join(map(str, golden["heads"])), ",".join(map(str, golden["sr"]))
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = ["convert-segmif", str(golden["pth"]), "--out", str(out), "--num-heads", heads, "--sr-ratios", sr,
                "--num-classes", "15"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "dropped WeTr's unused classifier.weight" in result.output
        assert "re-initialised the classifier: 9 -> 15 classes" in result.output
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert set(outputs[0]) == {"config.json", "model.safetensors", "conversion.json"}
    assert outputs[0] == outputs[1]
    record = json.loads(outputs[0]["conversion.json"])
    assert record["source"]["file"] == "segmif_tiny.pth" and len(record["source"]["sha256"]) == 64
    assert not list(tmp_path.glob(".*.part"))  # atomic_dir left no temp folder behind


def test_cli_error_names_file_and_fix(golden, tmp_path):
    from pipeline.cli import main

    state = _state(golden)
    del state["decoder.linear_fuse.conv.weight"]
    torch.save(state, tmp_path / "broken.pth")
    result = CliRunner().invoke(main, ["convert-segmif", str(tmp_path / "broken.pth"), "--out", str(tmp_path / "out"),
                                       "--num-heads", "1,2,3,4"])
    assert result.exit_code == 1
    assert "broken.pth" in result.output and "decoder.linear_fuse.conv.weight" in result.output
    assert "--num-heads" in result.output and not (tmp_path / "out").exists()


def test_unsafe_pickle_falls_back_with_a_warning_and_garbage_is_an_error(golden, tmp_path):
    import argparse

    torch.save({"state_dict": _state(golden), "meta": argparse.Namespace(epoch=3)}, tmp_path / "meta.pth")
    info = {}
    with pytest.warns(UserWarning, match="falling back to full unpickling"):
        state = read_segmif_state(tmp_path / "meta.pth", info)
    assert info == {"weights_only": False} and "decoder.linear_pred.weight" in state
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConversionError, match="not a readable torch.save file"):
        read_segmif_state(tmp_path / "garbage.pth")


def _segmif_from_transformers(model) -> dict:
    """A SegMiF-named state dict of a transformers SegFormer (k_proj/v_proj stacked back into attn.kv)."""
    from pipeline.downstream.segmif_convert import to_segmif_name

    state = {}
    for key, value in model.state_dict().items():
        name = to_segmif_name(key)
        state[name] = torch.cat([state[name], value]) if name in state else value.clone()
    return state


def test_non_default_settings_pass_through_and_round_trip(tmp_path):
    from transformers import SegformerForSemanticSegmentation

    from pipeline.downstream.fused_segmenter import segformer_config

    torch.manual_seed(0)
    config = segformer_config(3, [8, 8, 16, 16], [1, 1, 1, 1], [1, 1, 2, 2], 8)
    config.mlp_ratios, config.sr_ratios, config.patch_sizes = [2, 4, 4, 4], [4, 2, 1, 1], [7, 3, 5, 3]
    source = SegformerForSemanticSegmentation(config).eval()
    torch.save({"state_dict": _segmif_from_transformers(source)}, tmp_path / "odd.pth")
    record = convert_segmif_checkpoint(tmp_path / "odd.pth", tmp_path / "out", (1, 1, 2, 2), (4, 2, 1, 1))
    assert record["report"]["non_default_settings"] == ["mlp_ratios", "patch_sizes", "sr_ratios"]
    converted = SegformerForSemanticSegmentation.from_pretrained(tmp_path / "out", local_files_only=True).eval()
    pixels = torch.randn(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.equal(converted(pixel_values=pixels).logits, source(pixel_values=pixels).logits)
