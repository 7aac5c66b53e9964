"""One failure style: a stage stops with a click error whose message names the file or params key and the fix."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline import layout
from pipeline.data.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
DETECTION = next(n for n, s in DATASETS.items() if s.task == "detection")


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _split(path: Path, dataset: str) -> Path:
    path.write_text(json.dumps({"dataset": dataset, "train": [], "val": [], "test": []}))
    return path


def _fails(command, args) -> str:
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert isinstance(result.exception, SystemExit) and result.output.startswith("Error: "), result.output
    return result.output


def test_split_of_an_incomplete_dataset_names_the_folder_and_the_fix(project):
    from stages import split

    (project / "raw").mkdir()
    out = _fails(split.main, ["--dataset", "fmb", "--raw", "raw", "--out", "s.json"])
    assert "raw" in out and "fetch@fmb" in out and not (project / "s.json").exists()


def test_train_on_another_datasets_split_names_the_split_key_and_fix(project):
    from stages import train

    (project / "raw").mkdir()
    out = _fails(train.main, ["--run", "ssvif-swinfusion-fmb", "--raw", "raw", "--split", _split(project / "s.json", "msrs"),
                              "--out", "run", "--history", "h.csv", "--work", "work"])
    assert "s.json" in out and "runs.ssvif-swinfusion-fmb.dataset" in out and layout.split_file("fmb") in out


def test_fuse_on_another_datasets_split_names_the_split_and_the_fix(tmp_path):
    from stages import fuse

    with pytest.raises(click.ClickException) as err:
        fuse._fuse_dataset(None, 3, "fmb", tmp_path, _split(tmp_path / "s.json", "msrs"), tmp_path / "out", print)
    assert "s.json" in err.value.message and "--split" in err.value.message


def test_weights_for_the_wrong_dataset_names_the_option_and_the_fix(project):
    from stages import weights

    (project / "raw").mkdir()
    out = _fails(weights.main, ["--target", "detector", "--dataset", "fmb", "--raw", "raw",
                                "--split", _split(project / "s.json", "fmb"), "--out", "w"])
    assert "--dataset fmb" in out and f"--dataset {DETECTION}" in out


def test_unknown_run_names_the_params_key(project):
    from stages import fuse

    (project / "raw").mkdir()
    (project / "model.pt").write_bytes(b"")
    out = _fails(fuse.main, ["--run", "nope", "--model", "model.pt", "--raw", "raw", "--split",
                             _split(project / "s.json", "fmb"), "--out", "o"])
    assert "'runs.nope' is missing" in out
