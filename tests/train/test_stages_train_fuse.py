"""End to end: synthetic FMB -> stages.train (each framework) -> stages.fuse, in a temp project."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from pipeline.data.registry import get_dataset
    from pipeline.data.dataset_sources import fetch_synthetic

    tmp = tmp_path_factory.mktemp("project")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["train"].update(epochs=3, max_steps_per_epoch=1, crop=32)
    params["quick"]["original"].update(epochs=1, max_steps_per_epoch=1, crop=32)
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    fetch_synthetic(get_dataset("fmb"), tmp / "raw", 0, {"train": 6, "test": 2, "height": 48, "width": 64})
    split = {"dataset": "fmb", "seed": 0, "rule": "test", "train": ["00001", "00002", "00003", "00004"],
             "val": ["00005"], "test": []}
    test_stems = sorted(p.stem for p in (tmp / "raw").rglob("*") if "test" in p.parts and p.suffix == ".png")
    split["test"] = sorted(set(test_stems))[:1]
    (tmp / "split.json").write_text(json.dumps(split))
    return tmp


def _invoke(command, args, project, monkeypatch):
    monkeypatch.setenv("DVC_ROOT", str(project))
    result = CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
@pytest.mark.parametrize("run", ["ssvif-seafusion-fmb", "original-seafusion-fmb", "ssvif-swinfusion-fmb-1ch"])
def test_train_then_fuse(project, run, monkeypatch):
    from stages import fuse, train

    out, history = project / "runs" / run, project / "history" / f"{run}.csv"
    args = ["--run", run, "--raw", project / "raw", "--split", project / "split.json", "--out", out,
            "--history", history, "--work", project / "work"]
    _invoke(train.main, args, project, monkeypatch)
    first = (out / "model.pt").read_bytes()
    config = json.loads((out / "config.json").read_text())
    assert config["run"]["framework"] in ("ssvif", "original") and "model_selection" in config
    assert history.read_text().startswith("epoch,stage,")
    # a second run resumes from the finished work dir and writes the same bytes
    _invoke(train.main, args, project, monkeypatch)
    assert (out / "model.pt").read_bytes() == first
    # a fresh run (new work dir) gives byte-identical outputs: model.pt, config.json, history
    fresh = project / "fresh" / run
    args_fresh = args[:-6] + ["--out", fresh, "--history", fresh / "history.csv", "--work", project / "work-fresh"]
    _invoke(train.main, args_fresh, project, monkeypatch)
    assert (fresh / "model.pt").read_bytes() == first
    assert (fresh / "config.json").read_bytes() == (out / "config.json").read_bytes()
    assert (fresh / "history.csv").read_bytes() == history.read_bytes()

    fused = project / "fused" / run
    _invoke(fuse.main, ["--run", run, "--model", out / "model.pt", "--raw", project / "raw",
                        "--split", project / "split.json", "--out", fused], project, monkeypatch)
    split = json.loads((project / "split.json").read_text())
    stems = sorted(split["train"] + split["val"] + split["test"])
    assert sorted(p.stem for p in fused.iterdir()) == stems
    image = np.asarray(Image.open(fused / f"{stems[0]}.png"))
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8


@pytest.mark.slow
def test_train_never_resumes_across_thread_counts(project, tmp_path, monkeypatch):
    """A finished 1-thread run in the work dir is not resumed by a 2-thread run (its float sums differ)."""
    from stages import train

    other = tmp_path / "threads2"
    other.mkdir()
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["quick"]["threads"] = 2
    (other / "params.yaml").write_text(yaml.safe_dump(params))
    work, run = tmp_path / "work", "ssvif-seafusion-fmb"
    for root, name in ((project, "one"), (other, "two")):
        args = ["--run", run, "--raw", project / "raw", "--split", project / "split.json", "--out", tmp_path / name,
                "--history", tmp_path / f"{name}.csv", "--work", work]
        result = _invoke(train.main, args, root, monkeypatch)
    assert "resumed from" not in result.output and len(list(work.glob(f"{run}-*"))) == 2
    assert json.loads((tmp_path / "two" / "config.json").read_text())["threads"] == 2


def test_params_for_names_what_each_framework_reads():
    from stages import fuse, train
    from pipeline.params import load_params

    params = load_params(ROOT / "params.yaml")
    for name, run in params["runs"].items():
        keys = train.params_for(name, run)
        assert f"runs.{name}" in keys and f"{{profile}}.models.{run['model']}" in keys
        assert ("{profile}.original" in keys) == (run["framework"] == "original")
        assert ("weighting" in keys) == bool(run.get("headline"))
        assert "{profile}.threads" in keys
        assert fuse.params_for(name, run) == [f"runs.{name}", "{profile}.threads"]


@pytest.mark.slow  # two tiny training processes, ~20 s
def test_thread_count_of_the_shell_does_not_change_the_bytes(project, tmp_path):
    """The stage pins `<profile>.threads` itself: OMP_NUM_THREADS=1 and =2 in the shell give the same bytes."""
    import os
    import subprocess
    import sys

    outputs = {}
    for threads in ("1", "2"):
        out = tmp_path / f"omp{threads}"
        env = {**os.environ, "DVC_ROOT": str(project), "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        subprocess.run([sys.executable, "-m", "stages.train", "--run", "ssvif-swinfusion-fmb", "--raw",
                        str(project / "raw"), "--split", str(project / "split.json"), "--out", str(out / "run"),
                        "--history", str(out / "history.csv"), "--work", str(out / "work")],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        outputs[threads] = {p.name: p.read_bytes() for p in [out / "run" / "model.pt", out / "run" / "config.json",
                                                               out / "history.csv"]}
    assert outputs["1"] == outputs["2"]
    assert json.loads(outputs["1"]["config.json"])["threads"] == yaml.safe_load(
        (project / "params.yaml").read_text())["quick"]["threads"]
