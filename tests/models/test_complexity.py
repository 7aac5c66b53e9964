"""Complexity measures: MACs against Table IV, a memory measure checked by hand, determinism."""
from __future__ import annotations

import pytest
import torch.nn as nn

from pipeline.models.complexity import count_macs, efficiency_table, peak_memory_mb, real_peak_memory_mb
from pipeline.models.registry import FUSION_MODELS, create_fusion_model

# Paper Table IV "FLOPs (G)" (which are MACs) at 256x256: (original 1 ch, SSVIF 3 ch).
TABLE_IV_MACS_G = {"swinfusion": (75.98, 76.07), "emma": (8.62, 8.65), "seafusion": (10.88, 10.94)}


@pytest.mark.parametrize("name", sorted(FUSION_MODELS))
def test_macs_within_2_percent_of_table_iv(name, paper_widths):
    for channels, expected in zip((1, 3), TABLE_IV_MACS_G[name]):
        macs = count_macs(create_fusion_model(name, channels, **paper_widths[name]), channels, 256)
        assert macs / 1e9 == pytest.approx(expected, rel=0.02)


def test_macs_include_attention_matmuls(paper_widths):
    # SwinFusion without attention matmuls would be 74.8 - 28 blocks x 0.503 G = 60.7 G.
    macs = count_macs(create_fusion_model("swinfusion", 3, **paper_widths["swinfusion"]), 3, 256)
    window_tokens = 8 * 8
    attention_per_block = 2 * 256 * 256 * window_tokens * 60  # q@k^T and attn@v, in MACs
    assert macs > 60e9 + 20 * attention_per_block


class _Two(nn.Module):
    """Conv 1->4 (no bias) then x2: known live bytes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 1, bias=False)

    def forward(self, ir, vis):
        return self.conv(ir) * 2


def test_peak_memory_by_hand():
    # params 16 B + two inputs 2 x 64 x 4 B + conv output 4 x 64 x 4 B + product 4 x 64 x 4 B
    expected = 16 + 2 * 256 + 1024 + 1024
    assert peak_memory_mb(_Two(), 1, size=8) * 2**20 == pytest.approx(expected)


def test_peak_memory_by_hand_on_real_tensors():
    expected = 16 + 2 * 256 + 1024 + 1024
    assert real_peak_memory_mb(_Two(), 1, size=8) * 2**20 == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(FUSION_MODELS))
@pytest.mark.parametrize("channels", [1, 3])
def test_fake_tensor_peak_equals_the_real_run(name, channels, quick_widths):
    # the fake run must create exactly the storages a computed run creates (Table IV's mem_MB)
    model = create_fusion_model(name, channels, **quick_widths[name])
    before = [p.clone() for p in model.parameters()]
    assert peak_memory_mb(model, channels, size=32) == real_peak_memory_mb(model, channels, size=32)
    assert all(p.equal(b) for p, b in zip(model.parameters(), before))  # the caller's model is untouched


def test_efficiency_table_is_deterministic(quick_widths):
    first = efficiency_table(quick_widths, size=16)
    second = efficiency_table(quick_widths, size=16)
    assert first == second
    assert set(first) == set(FUSION_MODELS)
    for row in first.values():
        assert row["original"]["input"] == "(16,16,1)" and row["ssvif"]["input"] == "(16,16,3)"
        assert row["ssvif"]["params"] > row["original"]["params"]
        assert row["ssvif"]["mem_MB"] > 0


def test_cuda_memory_column_is_not_measured_on_cpu(quick_widths):
    table = efficiency_table({"seafusion": quick_widths["seafusion"]}, size=16, device="cpu")
    assert table["seafusion"]["original"]["cuda_mem_MB"] == "n/a"


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_cuda_allocator_peak_beside_the_tracker(quick_widths):
    row = efficiency_table({"seafusion": quick_widths["seafusion"]}, size=64, device="cuda")["seafusion"]["ssvif"]
    # every tracked storage is allocated by the caching allocator, rounded up: its peak is not below the tracker's
    assert row["cuda_mem_MB"] >= row["mem_MB"] > 0
