"""original@<model>: the released checkpoint, fetched from a loopback server (or a local copy), converted."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline.dag import build as dag_build
from pipeline.models.model_file import load_fusion_checkpoint
from pipeline.originals.sources import RELEASES
from pipeline import params as _params
from stages import original as stage
from tests.data.test_official import _Handler, server  # noqa: F401 (the loopback HTTP server fixture)
from tests.downstream.test_weights import local_only  # noqa: F401 (fails on any non-loopback connection)

ROOT = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path, source: str, local: str = "") -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["originals"] = {"source": source, "local": {"swinfusion": local, "seafusion": "", "emma": ""}}
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


@pytest.mark.parametrize("source", ["official", "local"])
def test_the_stage_writes_a_model_file_that_fuse_reads(source, server, tmp_path, monkeypatch, golden_checkpoint):  # noqa: F811
    _, url = server
    _, checkpoint = golden_checkpoint("swinfusion")
    _Handler.files[RELEASES["swinfusion"].path] = checkpoint.read_bytes()
    root = _project(tmp_path / "p", source, str(checkpoint) if source == "local" else "")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DVC_ROOT", str(root))
    out = root / "data/originals/swinfusion"
    result = CliRunner().invoke(stage.main, ["--model", "swinfusion", "--out", str(out),
                                             "--downloads", str(root / "downloads"), "--base-url", url])
    assert result.exit_code == 0, result.output
    model, channels = load_fusion_checkpoint(out / stage.MODEL_FILE, device="cpu")
    assert channels == 1 and model.fusion_residual is False  # network_swinfusion1.py, as released
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["source"] == source and provenance["url"] == RELEASES["swinfusion"].url
    assert (len(_Handler.log) == 1) == (source == "official")  # a local copy never touches the network


def test_a_missing_local_copy_names_the_key_and_the_file(tmp_path, monkeypatch):
    root = _project(tmp_path, "local", str(tmp_path / "nowhere.pth"))
    monkeypatch.chdir(root)
    monkeypatch.setenv("DVC_ROOT", str(root))
    result = CliRunner().invoke(stage.main, ["--model", "swinfusion", "--out", str(root / "o")])
    assert result.exit_code != 0 and "quick.originals.local.swinfusion" in result.output
    assert "10000_E.pth" in result.output and not (root / "o").exists()


def _paper_dag(source: str) -> dict:
    params = copy.deepcopy(_params.load_params(ROOT / "params.yaml"))
    params["profile"] = "paper"
    params["paper"]["originals"]["source"] = source
    return dag_build.build(params)["stages"]


@pytest.mark.parametrize("source", ["official", "local"])
def test_released_originals_train_nothing_and_fuse_the_released_model(source):
    stages = _paper_dag(source)
    originals = {n for n, r in _params.load_params(ROOT / "params.yaml")["runs"].items() if r["framework"] == "original"}
    assert originals and not originals & set(stages["train"]["foreach"])
    assert sorted(stages["original"]["foreach"]) == ["emma", "seafusion", "swinfusion"]
    fuse = stages["fuse"]["foreach"]
    for name in originals:  # one released model per architecture, on every dataset
        model = name.split("-")[1]
        assert fuse[name]["model_file"] == f"data/originals/{model}/model.pt"
        assert fuse[name]["model_dir"] == f"data/originals/{model}"


@pytest.mark.parametrize("source", ["retrain", "synthetic"])
def test_retrained_originals_train_once_per_dataset(source):
    stages = _paper_dag(source)
    assert "original" not in stages
    trained = {n for n in stages["train"]["foreach"] if n.startswith("original-")}
    assert {n.rsplit("-", 1)[1] for n in trained} == {"fmb", "msrs"} and len(trained) == 6
    assert all(stages["fuse"]["foreach"][n]["model_file"] == f"data/runs/{n}/model.pt" for n in trained)
