"""weights@<target>: stand-ins are byte-reproducible, missing paper weights stop before any training."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner



def run_weights(target, dataset, raw, split, out, work):
    from stages.weights import main

    args = ["--target", target, "--dataset", dataset, "--raw", str(raw), "--split", str(split), "--out", str(out),
            "--work", str(work), "--downloads", str(work / "downloads")]
    return CliRunner().invoke(main, args)


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow  # two tiny stand-in trainings, ~10 s
def test_segmenter_standin_same_bytes_twice(tmp_path, seg_inputs, tiny_params, no_network):
    raw, _, split = seg_inputs
    first = run_weights("segmenter", "fmb", raw, split, tmp_path / "a", tmp_path / "work-a")
    assert first.exit_code == 0, first.output
    second = run_weights("segmenter", "fmb", raw, split, tmp_path / "b", tmp_path / "work-b")
    assert second.exit_code == 0, second.output
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    info = json.loads((tmp_path / "a" / "weights.json").read_text())
    assert info["source"] == "synthetic" and info["threads"] == 1 and "visible + infrared" in info["trained_on"]
    assert {"config.json", "model.safetensors"} <= set(_bytes(tmp_path / "a"))


@pytest.mark.slow  # two tiny stand-in trainings, ~10 s
def test_segmenter_standin_never_resumes_across_thread_counts(tmp_path, seg_inputs, tiny_params, no_network):
    """Float sums depend on the thread count: a finished 1-thread stand-in must not be handed out as a 2-thread one."""
    raw, _, split = seg_inputs
    work = tmp_path / "work"
    assert run_weights("segmenter", "fmb", raw, split, tmp_path / "one", work).exit_code == 0
    tiny_params(quick__threads=2)
    second = run_weights("segmenter", "fmb", raw, split, tmp_path / "two", work)
    assert second.exit_code == 0, second.output
    assert "resuming after" not in second.output and len(list(work.glob("segmenter-fmb-*"))) == 2
    assert json.loads((tmp_path / "two" / "weights.json").read_text())["threads"] == 2


@pytest.mark.slow  # two one-epoch YOLO11n trainings on tiny images, ~30 s
def test_detector_standin_same_bytes_twice(tmp_path, det_inputs, tiny_params, no_network, yolo_env):
    raw, _, split = det_inputs
    for name in ("a", "b"):
        result = run_weights("detector", "m3fd", raw, split, tmp_path / name, tmp_path / f"work-{name}")
        assert result.exit_code == 0, result.output
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert b"work-a" not in (tmp_path / "a" / "yolo11n.pt").read_bytes()  # no path of the run inside


def test_paper_profile_without_network_stops_before_training(tmp_path, seg_inputs, tiny_params):
    """The paper's starting weights cannot be fetched: a clear error, nothing written, no fallback."""
    raw, _, split = seg_inputs
    tiny_params(profile="paper")
    from stages.weights import main

    result = CliRunner().invoke(main, ["--target", "segmenter", "--dataset", "fmb", "--raw", str(raw), "--split",
                                       str(split), "--out", str(tmp_path / "out"), "--work", str(tmp_path / "w"),
                                       "--downloads", str(tmp_path / "w" / "downloads"),
                                       "--base-url", "http://127.0.0.1:9"])
    assert result.exit_code != 0
    assert "Manual alternative" in result.output and "paper.weights.segmenter.local" in result.output.replace(
        "<profile>", "paper")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("w/segmenter-*"))


def test_local_source_without_a_path_names_both_ways(tmp_path, det_inputs, tiny_params, yolo_env):
    raw, _, split = det_inputs
    tiny_params(quick__weights__source="local")
    result = run_weights("detector", "m3fd", raw, split, tmp_path / "out", tmp_path / "w")
    assert result.exit_code != 0 and "weights.detector.local" in result.output
    assert "yolo11n.pt" in result.output and not (tmp_path / "out").exists()
