"""The shared fuse loop (pipeline.fuse.images.fuse_files): images on parallel worker threads,
the same bytes whatever the number of workers or the shell's thread count, atomic on failure."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline.atomic import atomic_dir
from pipeline.fuse import images as F

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    out = []
    for i in range(7):
        stem = f"{i:05d}"
        _write(tmp_path / "ir" / f"{stem}.png", rng.integers(0, 255, (24, 32), dtype=np.uint8))
        _write(tmp_path / "vis" / f"{stem}.png", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
        out.append((stem, tmp_path / "ir" / f"{stem}.png", tmp_path / "vis" / f"{stem}.png"))
    return out


@pytest.fixture(params=["seafusion", "swinfusion"])
def model(request):
    from pipeline.models.registry import create_fusion_model

    widths = {"seafusion": {"width": 4},
              "swinfusion": {"embed_dim": 8, "num_heads": 1, "window_size": 4, "mlp_ratio": 2.0,
                             "depth_extract": 1, "depth_fusion": 1, "depth_recon": 1}}[request.param]
    torch.manual_seed(0)
    return create_fusion_model(request.param, 1, **widths).eval()


def _sequential(fuse, pairs, out: Path) -> dict[str, bytes]:
    """The loop before fuse_files: one image after another, in this thread."""
    from pipeline.data.io import encode_png, read_infrared, read_visible

    return {f"{stem}.png": encode_png(fuse(read_infrared(ir), read_visible(vis))) for stem, ir, vis in pairs}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_workers_do_not_change_the_bytes(model, pairs, tmp_path):
    fuse = F.model_fuser(model, 1)
    expected = _sequential(fuse, pairs, tmp_path)
    for workers in (1, 3):
        out = tmp_path / f"w{workers}"
        assert F.fuse_files(fuse, pairs, out, workers=workers, threads=1) == len(pairs)
        assert _files(out) == expected, f"{workers} workers"


def test_rules_run_the_same_loop(pairs, tmp_path):
    from pipeline.rules.registry import get_rule, rule_fuser, to_uint8

    for name in ("max", "visible"):
        rule = get_rule(name)
        old = lambda ir, vis: to_uint8(rule(*F.to_tensors(ir, vis)))[0].numpy()  # noqa: E731 the old stage's code
        F.fuse_files(rule_fuser(name), pairs, tmp_path / name, workers=2, threads=1)
        assert _files(tmp_path / name) == _sequential(old, pairs, tmp_path)


def test_log_counts_every_image(model, pairs, tmp_path):
    lines = []
    F.fuse_files(F.model_fuser(model, 1), pairs, tmp_path / "out", workers=2, log=lines.append)
    assert lines[-1] == f"fused {len(pairs)}/{len(pairs)}"


def test_a_failing_png_write_leaves_no_output_folder(model, pairs, tmp_path, monkeypatch):
    """Writing the 3rd PNG fails on a worker thread: the error surfaces, the output folder never
    appears, the temp folder is gone, and no thread writes anything afterwards."""
    from pipeline.data import io

    real, calls = io.write_png, []

    def flaky(path, array, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        time.sleep(0.01)
        return real(path, array, *args, **kwargs)

    monkeypatch.setattr(io, "write_png", flaky)
    out = tmp_path / "fused" / "run"
    with pytest.raises(OSError, match="disk full"):
        with atomic_dir(out) as tmp:
            F.fuse_files(F.model_fuser(model, 1), pairs, tmp, workers=2, threads=1)
    time.sleep(0.2)  # a stray worker would have recreated the temp folder by now
    assert not out.exists()
    assert list((tmp_path / "fused").iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("fuse")]


def test_a_failing_pair_names_it_and_leaves_no_output_folder(model, pairs, tmp_path):
    _write(pairs[4][1], np.zeros((20, 32), np.uint8))  # infrared no longer matches its visible
    out = tmp_path / "fused" / "run"
    with pytest.raises(ValueError, match=f"{pairs[4][0]}: .*differ in size"):
        with atomic_dir(out) as tmp:
            F.fuse_files(F.model_fuser(model, 1), pairs, tmp, workers=2, threads=1)
    assert not out.exists() and list((tmp_path / "fused").iterdir()) == []


def test_image_workers(monkeypatch):
    monkeypatch.delenv(F.WORKERS_ENV, raising=False)
    assert F.image_workers(1) == F.available_cpus()
    assert F.image_workers(F.available_cpus() + 1) == 1
    assert F.image_workers(8, "meta") == 2  # an accelerator: one image fused while another is written
    monkeypatch.setenv(F.WORKERS_ENV, "3")
    assert F.image_workers(1) == 3 and F.image_workers(1, "meta") == 3
    monkeypatch.setenv(F.WORKERS_ENV, "0")
    with pytest.raises(ValueError, match=F.WORKERS_ENV):
        F.image_workers(1)


@pytest.mark.slow  # two stage processes, a few seconds each
def test_fuse_stage_bytes_do_not_depend_on_the_shells_thread_count(tmp_path):
    """stages.fuse pins `<profile>.threads`: OMP_NUM_THREADS=1 and =2 give the same bytes."""
    from pipeline.atomic import atomic_write_json
    from pipeline.data.registry import get_dataset
    from pipeline.data.splits import make_split
    from pipeline.data.synthetic import generate_dataset
    from pipeline.data.validate import list_stems
    from pipeline.models.registry import create_fusion_model

    spec = get_dataset("fmb")
    generate_dataset(spec, tmp_path / "raw", 0, {"train": 3, "test": 2, "height": 48, "width": 64})
    atomic_write_json(tmp_path / "split.json", make_split(spec, list_stems(spec, tmp_path / "raw"), 0, 0.34))
    widths = {"embed_dim": 8, "num_heads": 1, "window_size": 4, "mlp_ratio": 2.0,
              "depth_extract": 1, "depth_fusion": 1, "depth_recon": 1}
    torch.manual_seed(0)
    model = create_fusion_model("swinfusion", 3, **widths)
    torch.save({"name": "swinfusion", "channels": 3, "widths": widths, "state_dict": model.state_dict()},
               tmp_path / "model.pt")
    outputs = {}
    for threads in ("1", "2"):
        env = {**os.environ, "DVC_ROOT": str(REPO), "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        out = tmp_path / f"omp{threads}"
        subprocess.run([sys.executable, "-m", "stages.fuse", "--run", "ssvif-swinfusion-fmb", "--dataset", "fmb",
                        "--model", str(tmp_path / "model.pt"), "--raw", str(tmp_path / "raw"),
                        "--split", str(tmp_path / "split.json"), "--out", str(out)],
                       cwd=REPO, env=env, check=True, capture_output=True)
        outputs[threads] = _files(out)
    split = json.loads((tmp_path / "split.json").read_text())
    assert len(outputs["1"]) == len(split["train"] + split["val"] + split["test"])
    assert outputs["1"] == outputs["2"]
