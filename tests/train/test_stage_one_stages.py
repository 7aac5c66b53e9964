"""The shared stage I through the stages' commands (stages.stage_one, stages.train --stage-one), real models.

The proof of issue 21: each member run continued from stage_one@swinfusion-fmb-3ch-l20 writes the model.pt
tensors and history.csv of the same run trained alone.
"""
from __future__ import annotations

import json

import pytest
import torch
import yaml

from pipeline import layout
from tests.train.test_stages_train_fuse import ROOT, _invoke

UNIT = "swinfusion-fmb-3ch-l20"
# (a) GDWA with CSC, (b) the same group with another n_classes and UCW, (c) CSC off (stage I throughout).
MEMBERS = ("ssvif-swinfusion-fmb", "ssvif-swinfusion-fmb-ucw", "ssvif-swinfusion-fmb-nocsc")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from pipeline.data.dataset_sources import fetch_synthetic
    from pipeline.data.registry import get_dataset

    tmp = tmp_path_factory.mktemp("stage_one")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["train"].update(epochs=4, max_steps_per_epoch=2, crop=32, val_crop=32, stage_one_max_epochs=2)
    params["runs"]["ssvif-swinfusion-fmb-ucw"]["n_classes"] = 9  # (b): other classes and weighting, one group
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    fetch_synthetic(get_dataset("fmb"), tmp / "raw", 0, {"train": 5, "test": 1, "height": 48, "width": 64})
    split = {"dataset": "fmb", "seed": 0, "rule": "test", "train": ["00001", "00002", "00003", "00004"],
             "val": ["00005"], "test": []}
    (tmp / "split.json").write_text(json.dumps(split))
    return tmp


def _common(project) -> list:
    return ["--raw", project / "raw", "--split", project / "split.json"]


def _train(project, monkeypatch, run: str, name: str, *extra) -> dict:
    from stages import train

    out = project / name / run
    _invoke(train.main, ["--run", run, *_common(project), "--out", out, "--history", out / "history.csv",
                         "--work", project / name / "work", *extra], project, monkeypatch)
    return {"model": torch.load(out / layout.RUN_MODEL, weights_only=False),
            "history": (out / "history.csv").read_text(), "config": json.loads((out / layout.RUN_CONFIG).read_text())}


@pytest.fixture(scope="module")
def unit_dir(project):
    from stages import stage_one

    monkeypatch = pytest.MonkeyPatch()
    out = project / "stage_one" / UNIT
    _invoke(stage_one.main, ["--unit", UNIT, *_common(project), "--out", out, "--work", project / "work-one"],
            project, monkeypatch)
    monkeypatch.undo()
    return out


@pytest.mark.slow  # ~6 tiny trainings
@pytest.mark.parametrize("run", MEMBERS)
def test_a_member_continued_from_the_unit_writes_the_bytes_of_training_alone(project, unit_dir, run, monkeypatch):
    alone = _train(project, monkeypatch, run, "alone")
    continued = _train(project, monkeypatch, run, "continued", "--stage-one", unit_dir)
    assert continued["history"] == alone["history"]
    weights, expected = continued["model"]["state_dict"], alone["model"]["state_dict"]
    assert list(weights) == list(expected) and all(torch.equal(weights[k], v) for k, v in expected.items())
    assert continued["config"].pop("stage_one_unit") == UNIT and continued["config"] == alone["config"]
    stages = [int(line.split(",")[1]) for line in alone["history"].splitlines()[1:]]
    assert stages == ([1] * 4 if run.endswith("-nocsc") else [1, 1, 2, 2])


def test_a_stage_one_file_of_another_group_is_refused_naming_the_file_and_the_fix(project, unit_dir, monkeypatch):
    from click.testing import CliRunner

    from stages import train

    monkeypatch.setenv("DVC_ROOT", str(project))
    out = project / "refused"
    result = CliRunner().invoke(train.main, [str(a) for a in [
        "--run", "ssvif-swinfusion-fmb-l10", *_common(project), "--out", out, "--history", out / "h.csv",
        "--work", out / "work", "--stage-one", unit_dir]])
    assert result.exit_code != 0 and not out.exists()
    assert str(unit_dir / layout.STAGE_ONE_STATE) in result.output and "lambda_color: 20.0 in the file" in result.output
    assert "pass --stage-one data/stage_one/swinfusion-fmb-3ch-l10" in result.output
    result = CliRunner().invoke(train.main, [str(a) for a in [
        "--run", "ssvif-swinfusion-fmb-onestage", *_common(project), "--out", out, "--history", out / "h.csv",
        "--work", out / "work", "--stage-one", unit_dir]])
    assert result.exit_code != 0 and "has no shared stage I" in result.output and "drop --stage-one" in result.output
