"""Fusion training under several processes (`<profile>.gpus: 2`): torchrun, gloo on the CPU, rank 0 writes.

Each process takes an equal share of every global batch and the gradients are averaged over them
(pipeline.distributed.average_gradients; the Dice sums of L_csc and BatchNorm statistics run over
the global batch), so the step is the one-process step of that batch up to float rounding. The
comparison turns dropout and drop-path off: their masks are drawn per process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.downstream.test_ddp import _free_port  # a free loopback port for the gloo rendezvous

ROOT = Path(__file__).resolve().parents[2]
WORLD = 2


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from pipeline.data.registry import get_dataset
    from pipeline.data.dataset_sources import fetch_synthetic

    tmp = tmp_path_factory.mktemp("ddp-project")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["original"].update(epochs=2, max_steps_per_epoch=2, crop=32, batch=2)
    params["quick"]["gpus"] = WORLD
    params["quick"]["lr_scale"] = 1  # SeAFusion's own 1e-3, the step size the tolerance below is made for
    (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    fetch_synthetic(get_dataset("fmb"), tmp / "raw", 0, {"train": 6, "test": 1, "height": 48, "width": 64})
    split = {"dataset": "fmb", "seed": 0, "rule": "test", "train": ["00001", "00002", "00003", "00004"],
             "val": ["00005"], "test": []}
    (tmp / "split.json").write_text(json.dumps(split))
    return tmp


def _train(project: Path, run: str, out: Path, gpus: int) -> subprocess.CompletedProcess:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["quick"]["gpus"] = gpus
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "DVC_ROOT": str(project)}
    return subprocess.run([sys.executable, "-m", "stages.train", "--run", run, "--raw", str(project / "raw"),
                           "--split", str(project / "split.json"), "--out", str(out / "run"),
                           "--history", str(out / "history.csv"), "--work", str(out / "work")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # torchrun with 2 processes, then one process: ~40 s
def test_two_processes_write_one_run_matching_one_process(project, tmp_path):
    run = "original-seafusion-fmb"
    two = _train(project, run, tmp_path / "two", WORLD)
    assert two.returncode == 0, two.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "two" / "run").iterdir()) == ["config.json", "model.pt"]
    assert json.loads((tmp_path / "two" / "run" / "config.json").read_text())["world_size"] == WORLD
    one = _train(project, run, tmp_path / "one", 1)
    assert one.returncode == 0, one.stderr[-3000:]
    assert "world_size" not in json.loads((tmp_path / "one" / "run" / "config.json").read_text())
    a, b = (torch.load(tmp_path / d / "run" / "model.pt", weights_only=False)["state_dict"] for d in ("one", "two"))
    _assert_weights_close(a, b)
    rows = [(tmp_path / d / "history.csv").read_text().splitlines() for d in ("one", "two")]
    assert rows[0][0] == rows[1][0] and len(rows[0]) == len(rows[1])


def _assert_weights_close(one: dict, two: dict) -> None:
    """Adam normalises each gradient element: where the true gradient is ~0, rounding noise becomes a step of
    up to lr (1e-3 here), so an element may differ by a few 1e-5 after 4 steps; a wrong gradient moves many."""
    close = total = 0
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=1e-3, atol=1e-4, msg=lambda m: f"{key}: {m}")
        close += int(torch.isclose(two[key], value, rtol=1e-4, atol=1e-6).sum())
        total += value.numel()
    assert close >= 0.99 * total, f"only {close} of {total} weights agree to 1e-6"


def _ssvif_trainer():
    """A tiny SSVIF trainer (SwinFusion, CSC with GDWA, stage II from epoch 2), dropout and drop-path off."""
    from pipeline.train.run import RunSettings, build_trainer

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    q = params["quick"]
    settings = RunSettings(
        name="ssvif-swinfusion-fmb", run=params["runs"]["ssvif-swinfusion-fmb"], widths=q["models"]["swinfusion"],
        train={**q["train"], "epochs": 2, "batch": 4, "stage_one_max_epochs": 1, "patience": 5},
        segformer={**q["segformer"], "classifier_dropout_prob": 0.0, "drop_path_rate": 0.0},
        loss=params["loss"], weightings=params["weightings"], weighting="gdwa", seed=0, ssvif_lr=params["ssvif_lr"],
        lr_scale=q["lr_scale"])
    trainer = build_trainer(settings, device="cpu", log=lambda line: None)
    for module in trainer.strategy.modules().values():
        for m in module.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.0
            for rate in ("drop_path_rate", "drop_prob"):  # SwinFusion's and SegFormer's stochastic depth
                if hasattr(m, rate):
                    setattr(m, rate, 0.0)
    return trainer


def _batches(epoch: int) -> list[dict]:
    """Two global batches of 4 seeded 32x32 pairs per epoch (what each process draws alike)."""
    g = torch.Generator().manual_seed(epoch)
    return [{"ir": torch.rand(4, 1, 32, 32, generator=g), "vis": torch.rand(4, 3, 32, 32, generator=g),
             "stem": [f"{epoch}-{i}" for i in range(4)]} for _ in range(2)]


def _steps() -> dict:
    """A stage-I step and a stage-II step (Eq. 2 with GDWA's task gradients), each from the fresh seeded
    weights (so Adam's first update cannot amplify rounding into the second); their rows and the gradients
    they applied (averaged over the processes under DDP)."""
    from pipeline import distributed as dist

    out = {}
    for stage, batch in zip((1, 2), _batches(0)):
        trainer = _ssvif_trainer()
        row = trainer.strategy.step(dist.shard_batch(batch), stage, trainer.optimizer, trainer.config)
        grads = {f"{m}.{n}": p.grad.clone() for m, module in trainer.strategy.modules().items()
                 for n, p in module.named_parameters() if p.grad is not None}
        out[stage] = {"row": row, "grads": grads}
    return out


def _step_worker(rank: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from pipeline import distributed as dist

    with dist.process_group():
        result = _steps()
        if dist.is_writer():
            torch.save(result, out)


@pytest.mark.slow  # 2 spawned processes and one in-process run: ~30 s
def test_stage_one_and_two_steps_match_one_process(tmp_path):
    """The same global batch and weights: the same losses, GDWA inputs, Eq. 8-9 statistics and gradients."""
    import torch.multiprocessing as mp

    mp.spawn(_step_worker, args=(_free_port(), str(tmp_path / "two.pt")), nprocs=WORLD, join=True)
    two = torch.load(tmp_path / "two.pt", weights_only=False)
    torch.set_num_threads(1)
    one = _steps()
    assert set(two[2]["row"]) == set(one[2]["row"]) >= {"grad_norm_fus", "grad_norm_csc", "alpha_cf", "w_csc"}
    for stage in (1, 2):
        for key, value in one[stage]["row"].items():
            assert two[stage]["row"][key] == pytest.approx(value, rel=1e-4, abs=1e-7), (stage, key)
        assert set(two[stage]["grads"]) == set(one[stage]["grads"])
        # To fp32 rounding of each module's gradient scale: some tensors' exact gradient is 0 (e.g. SegFormer's
        # first queries here), and what is computed there, ~1e-17, is noise of that scale.
        scale = {}
        for key, grad in one[stage]["grads"].items():
            module = key.split(".")[0]
            scale[module] = max(scale.get(module, 0.0), float(grad.abs().max()))
        for key, grad in one[stage]["grads"].items():
            torch.testing.assert_close(two[stage]["grads"][key], grad, rtol=1e-3, atol=1e-5 * scale[key.split(".")[0]],
                                       msg=lambda m: f"stage {stage} {key}: {m}")
