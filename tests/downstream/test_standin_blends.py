"""The segmenter stand-in's samples: the two sources of each stem, then seeded blends between them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.data.io import read_label
from pipeline.data.registry import DATASETS
from pipeline.downstream.seg_data import read_fused
from pipeline.downstream.standin import BLEND_ALPHA, SourceSamples, blend_alpha


def _samples(seg_inputs, blends, seed=0, part="train"):
    raw, _, split = seg_inputs
    stems = json.loads(split.read_text())[part]
    return SourceSamples(DATASETS["fmb"], raw, stems, part, read_label, blends, seed), stems


def test_no_blends_is_the_two_sources(seg_inputs):
    samples, stems = _samples(seg_inputs, 0)
    assert len(samples) == 2 * len(stems)
    for i, (path, label) in enumerate(samples.pairs):
        image, target = samples[i]
        assert np.array_equal((image.permute(1, 2, 0) * 255).round().byte().numpy(), read_fused(path))
        assert np.array_equal(target.numpy(), read_label(label))


def test_a_blend_lies_between_its_sources(seg_inputs):
    samples, stems = _samples(seg_inputs, 2)
    assert len(samples) == 4 * len(stems)
    blends = [i for i, mix in enumerate(samples.mix) if mix is not None]
    assert len(blends) == 2 * len(stems)
    for i in blends:
        ir_path, alpha = samples.mix[i]
        vis, ir = read_fused(samples.pairs[i][0]).astype(np.int16), read_fused(ir_path).astype(np.int16)
        image = samples.image(i).astype(np.int16)
        assert BLEND_ALPHA[0] <= alpha <= BLEND_ALPHA[1]
        assert np.all(image >= np.minimum(vis, ir)) and np.all(image <= np.maximum(vis, ir))
        assert np.abs(image - (alpha * vis + (1 - alpha) * ir)).max() <= 0.5 + 1e-6
        assert not np.array_equal(image, vis) or np.array_equal(vis, ir)  # where the sources differ, so does the blend


def test_blends_depend_only_on_seed_stem_and_index(seg_inputs):
    first, stems = _samples(seg_inputs, 2, seed=3)
    again, _ = _samples(seg_inputs, 2, seed=3)
    other, _ = _samples(seg_inputs, 2, seed=4)
    assert first.mix == again.mix
    assert [m for m in first.mix if m] != [m for m in other.mix if m]
    assert blend_alpha(3, stems[0], 0) != blend_alpha(3, stems[0], 1) != blend_alpha(3, stems[1], 1)
    assert all(np.array_equal(first.image(i), again.image(i)) for i in range(len(first)))


def test_negative_blends_name_the_key(seg_inputs):
    with pytest.raises(ValueError, match=r"weights\.segmenter\.standin\.blends"):
        _samples(seg_inputs, -1)


@pytest.mark.slow  # one tiny stand-in training, ~5 s
def test_standin_records_its_blends(tmp_path, seg_inputs, tiny_params, no_network):
    from tests.downstream.test_weights_stage import run_weights

    raw, _, split = seg_inputs
    tiny_params(quick__weights__segmenter__standin__blends=1)
    result = run_weights("segmenter", "fmb", raw, split, tmp_path / "out", tmp_path / "work")
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "out" / "weights.json").read_text())
    assert "1 blend(s) per stem" in info["trained_on"] and "(18 images)" in info["trained_on"]
