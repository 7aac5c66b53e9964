"""Detection stage on tiny synthetic M3FD data, fully offline."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image


def run_stage(tmp_path, raw, fused, split, init=None):
    from stages.detect import main

    from .conftest import conditions_file, starting_point

    out = tmp_path / "out"
    init = init or starting_point(tmp_path / "weights" / "detector")
    args = ["--method", "m", "--fused", str(fused), "--raw", str(raw), "--split", str(split), "--init", str(init),
            "--conditions", str(conditions_file(tmp_path / "conditions.json", split, "m3fd")),
            "--out", str(out / "m.json"), "--predictions", str(out / "m"), "--work", str(tmp_path / "work")]
    return CliRunner().invoke(main, args, catch_exceptions=False), out


@pytest.mark.slow  # one YOLO11n epoch on 8 tiny images, ~10 s on one CPU thread
def test_tiny_yolo_run_offline_writes_wellformed_outputs(tmp_path, det_inputs, tiny_params, no_network, yolo_env):
    result, out = run_stage(tmp_path, *det_inputs)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "m.json").read_text())
    assert set(report["AP50"]) == {"People", "Car", "Bus", "Motorcycle", "Lamp", "Truck"}
    assert report["init"] == {"source": "scratch"} and report["amp"] is False and report["epochs"] == 1
    assert set(report["by_condition"]) <= {"day", "night"} and report["by_condition"]
    present = [v for v in report["AP50"].values() if v is not None]
    assert all(0.0 <= v <= 100.0 for v in present)
    assert report["mAP50"] == pytest.approx(sum(present) / len(present), abs=1e-3)
    assert sorted(p.stem for p in (out / "m").glob("*.png")) == json.loads(det_inputs[2].read_text())["test"]
    assert Image.open(next((out / "m").glob("*.png"))).size == (96, 64)
    labels = sorted((tmp_path / "work").glob("m-m3fd-*/dataset/labels/train/*.txt"))
    assert len(labels) == 8 and all(len(p.read_text().splitlines()) == 2 for p in labels)
    # A re-run finds the finished training and reproduces the same bytes.
    first = (out / "m.json").read_bytes()
    result, out = run_stage(tmp_path, *det_inputs)
    assert "reusing the finished training" in result.output
    assert (out / "m.json").read_bytes() == first


def test_missing_starting_weights_is_a_clear_error(tmp_path, det_inputs, tiny_params, no_network, yolo_env):
    from pipeline.downstream.starting_point import StartingPointError

    from .conftest import starting_point

    folder = starting_point(tmp_path / "weights" / "detector", "synthetic")  # weights.json but no yolo11n.pt
    with pytest.raises(StartingPointError, match="yolo11n.pt is missing: re-run `dvc repro dag/weights/dvc.yaml:weights@detector`"):
        run_stage(tmp_path, *det_inputs, init=folder)


def test_ultralytics_is_configured_offline(tmp_path, yolo_env):
    from pipeline.downstream.yolo_offline import configure_offline

    configure_offline(tmp_path / "cfg")
    import os

    from ultralytics.utils import SETTINGS, is_online

    assert os.environ["YOLO_OFFLINE"] == "true" and os.environ["YOLO_AUTOINSTALL"] == "false"
    assert not is_online()
    assert SETTINGS["sync"] is False and SETTINGS["dvc"] is False


def test_network_guard_catches_swallowed_attempts(no_network):
    import socket

    try:
        socket.create_connection(("example.com", 80))
    except AssertionError:
        pass
    assert len(no_network) == 1
    no_network.clear()  # the guard itself works; let the fixture's final check pass
