"""fuse_rule and fusion_metrics stages on a tiny synthetic MSRS (the data helper's generator)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_msrs(tmp_path, monkeypatch):
    from pipeline.atomic import atomic_write_json
    from pipeline.data.registry import get_dataset
    from pipeline.data.splits import make_split
    from pipeline.data.synthetic import generate_dataset
    from pipeline.data.validate import list_stems

    monkeypatch.setenv("DVC_ROOT", str(REPO))  # the stages read the project's params.yaml
    spec = get_dataset("msrs")
    generate_dataset(spec, tmp_path / "raw", 0, {"train": 3, "test": 2, "height": 168, "width": 176})
    atomic_write_json(tmp_path / "split.json", make_split(spec, list_stems(spec, tmp_path / "raw"), 0, 0.34))
    return tmp_path


def test_fuse_rule_then_fusion_metrics(tiny_msrs):
    from stages import fuse_rule, fusion_metrics

    d = tiny_msrs
    split = json.loads((d / "split.json").read_text())
    common = ["--dataset", "msrs", "--raw", str(d / "raw"), "--split", str(d / "split.json")]
    r = CliRunner().invoke(fuse_rule.main, ["--rule", "mean", *common, "--out", str(d / "fused")])
    assert r.exit_code == 0, r.output
    assert sorted(p.stem for p in (d / "fused").glob("*.png")) == sorted(split["train"] + split["val"] + split["test"])
    out = ["--fused", str(d / "fused"), "--out", str(d / "m.json"), "--per-image", str(d / "m.csv")]
    r = CliRunner().invoke(fusion_metrics.main, ["--method", "mean", *common, *out])
    assert r.exit_code == 0, r.output
    summary = json.loads((d / "m.json").read_text())
    assert summary["count"] == len(split["test"])  # test split only
    assert set(summary) >= {"EN", "MI", "MI_nats", "VIF", "Qabf", "SSIM", "SSIM_L255", "MSS", "MSS_L255", "dE"}
    first = (d / "m.json").read_bytes()
    CliRunner().invoke(fusion_metrics.main, ["--method", "mean", *common, *out])
    assert (d / "m.json").read_bytes() == first  # deterministic bytes


def test_stage_params_are_declared():
    from stages import fuse_rule, fusion_metrics

    # Only the thread count: the rules and the metric definitions have no tunable numbers.
    assert fuse_rule.PARAMS == ["{profile}.threads"] and fusion_metrics.PARAMS == ["{profile}.threads"]
