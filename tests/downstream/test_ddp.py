"""Segmentation fine-tuning under DDP: 2 gloo processes on the CPU against one process.

With the same global batch (the 2 ranks split each step's batch of 4 crops, the crops those one
process draws), the loss normalised by the global count of labelled pixels and the decode head's
BatchNorm on the global batch (GlobalBatchNorm2d), DDP's averaged gradient is the one-process
gradient up to float rounding, so the two runs agree to fp32 tolerance. Dropout and drop-path
masks are drawn per rank, so the comparison turns them off (p = 0); that is the only change to
the model. Some label pixels are set to ignore, so the ranks' labelled-pixel counts differ (a
plain per-rank mean would not match).

Where the maths says they need not agree: a per-channel constant added before the decode head's
BatchNorm is removed by it, so the biases of the head's linear projections and the last encoder
stage's final LayerNorm bias have a gradient of exactly 0 in exact arithmetic; what is computed
is rounding noise, which AdamW turns into steps of about lr. Those tensors, and the BatchNorm
running mean that follows them, are left out of the weight comparison; they shift the BatchNorm
input by a constant only, so in training mode they change nothing else. Validation runs on the
running statistics, so the validation mIoU (a few pixels of a tiny model) is not compared; the
sharded validation is checked to give exactly the confusion matrix of one process instead.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.downstream.conftest import make_segmentation_inputs

WORLD = 2
ENCODER = dict(hidden_sizes=[8, 8, 16, 16], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1],
               decoder_hidden_size=16)


def _config():
    from pipeline.downstream.seg_finetune import FinetuneConfig

    return FinetuneConfig(epochs=2, freeze_epochs=1, batch=4, lr=1e-3, lr_unfrozen=1e-3, patience=5, crop=32,
                          seed=0, class_balanced=True)


def _samples(root: Path):
    from pipeline.data.io import read_label
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS
    from pipeline.downstream.seg_data import SegmentationSamples

    spec = DATASETS["fmb"]
    stems = json.loads((root / "splits" / "fmb.json").read_text())
    return spec, {part: SegmentationSamples([(root / "fused" / "fmb" / f"{s}.png",
                                              pair_paths(spec, root / "raw" / "fmb", s, part)["label"])
                                             for s in stems[part]], read_label, spec.num_classes)
                  for part in ("train", "val")}


def _model(num_classes: int):
    """The tiny SegFormer, seeded, with dropout and drop-path off (their masks are per rank)."""
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter

    torch.manual_seed(0)
    model = FusedImageSegmenter(num_classes, **ENCODER)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if hasattr(module, "drop_prob"):
            module.drop_prob = 0.0
    return model


def _worker(rank: int, root: str, port: int) -> None:
    """One rank: fine-tune under a gloo process group; record this rank's checkpoint writes and result."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from pipeline import distributed as dist
    from pipeline.downstream import seg_finetune

    root = Path(root)
    writes = []
    real_save = seg_finetune.save_checkpoint
    seg_finetune.save_checkpoint = lambda path, state: (writes.append(Path(path).name), real_save(path, state))
    spec, samples = _samples(root)
    model = _model(spec.num_classes)
    with dist.process_group() as ctx:
        assert ctx.world_size == WORLD and dist.world_size() == WORLD
        state, history = seg_finetune.finetune(model, samples["train"], samples["val"], spec.classes, _config(),
                                               root / "work-ddp", log=lambda *_: None)
        sharded = seg_finetune._val_confusion(model, samples["val"], spec.num_classes)
    whole = seg_finetune.confusion(model, samples["val"], spec.num_classes)
    torch.save({"state": state, "history": history, "writes": writes, "sharded": sharded, "whole": whole,
                "live": {k: v.clone() for k, v in model.state_dict().items()}}, root / f"rank{rank}.pt")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inputs(tmp_path):
    raw, _, split_file = make_segmentation_inputs(tmp_path, counts=(8, 2, 2), size=(48, 64))
    # A band of ignored pixels in some training labels: the ranks' labelled-pixel counts differ.
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS

    for stem in json.loads(split_file.read_text())["train"][::3]:
        path = pair_paths(DATASETS["fmb"], raw, stem, "train")["label"]
        label = np.asarray(Image.open(path)).copy()
        label[:, :24] = 255
        Image.fromarray(label).save(path)
    return tmp_path


def test_two_gloo_processes_match_one_process(inputs):
    import torch.multiprocessing as mp

    from pipeline.downstream.seg_finetune import finetune

    torch.set_num_threads(1)
    spec, samples = _samples(inputs)
    one = _model(spec.num_classes)
    _, one_history = finetune(one, samples["train"], samples["val"], spec.classes, _config(), inputs / "work-one",
                              log=lambda *_: None)

    mp.spawn(_worker, args=(str(inputs), _free_port()), nprocs=WORLD, join=True)
    ranks = [torch.load(inputs / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]

    # Only rank 0 writes: one best model (and the resume point) in the work directory.
    assert ranks[1]["writes"] == [] and "best.pt" in ranks[0]["writes"]
    assert sorted(p.name for p in (inputs / "work-ddp").iterdir()) == ["best.pt", "last.pt"]
    # Every rank ends with the same model, bit for bit, and returns the same best state.
    for key, value in ranks[0]["live"].items():
        assert torch.equal(value, ranks[1]["live"][key]), key
    for key, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][key]), key

    # Sharded validation (each rank every second image, matrices summed) = one process's matrix.
    assert ranks[0]["sharded"].sum() == ranks[0]["whole"].sum() > 0
    np.testing.assert_array_equal(ranks[0]["sharded"], ranks[0]["whole"])

    # Against one process: the same losses and final weights to fp32 tolerance.
    two_history = ranks[0]["history"]
    assert [(h["epoch"], h["frozen"], h["lr"]) for h in two_history] == [(h["epoch"], h["frozen"], h["lr"])
                                                                          for h in one_history]
    for a, b in zip(one_history, two_history):
        assert b["loss"] == pytest.approx(a["loss"], abs=2e-4)  # the history rounds to 4 decimals
    one_state, two_state = one.state_dict(), ranks[0]["live"]
    assert two_state.keys() == one_state.keys()
    cancelled = {k for k in one_state if k.startswith("segformer.decode_head.linear_projections.")
                 and k.endswith(".proj.bias")} | {"segformer.segformer.stages.3.layer_norm.bias",
                                                  "segformer.decode_head.batch_norm.running_mean"}
    assert len(cancelled) == 6 and cancelled <= one_state.keys()
    for key, value in one_state.items():
        if key in cancelled:
            continue
        if value.is_floating_point():
            torch.testing.assert_close(two_state[key], value, rtol=1e-4, atol=2e-5, msg=key)
        else:
            assert torch.equal(two_state[key], value), key


def test_cli_args_rebuild_the_command_line():
    import click

    from pipeline.distributed import cli_args

    @click.command()
    @click.option("--method", required=True)
    @click.option("--split", "split_file")
    @click.option("--confusion-csv", default=None)
    @click.option("--verbose", is_flag=True)
    def cmd(method, split_file, confusion_csv, verbose):
        click.echo(" ".join(cli_args(click.get_current_context())))

    from click.testing import CliRunner

    result = CliRunner().invoke(cmd, ["--method", "max", "--split", "s.json", "--verbose"])
    assert result.output.strip() == "--method max --split s.json --verbose"


def test_one_process_is_plain_code(monkeypatch):
    from pipeline import distributed as dist

    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    with dist.process_group() as ctx:
        assert not ctx.distributed and not dist.initialized() and dist.is_writer()
        assert dist.wrap(model) is model and dist.sync_batchnorm(model) is model
        assert type(model[1]) is torch.nn.BatchNorm2d
        assert dist.shard([0, 1, 2]) == [0, 1, 2]
        dist.barrier()
    with pytest.raises(ValueError, match="whole number"):
        dist.check_gpus(0, "quick")


def test_detect_device_list_only_for_several_gpus():
    from pipeline.downstream.yolo_detect import train_device

    assert train_device("0", 4) == "0,1,2,3"  # Ultralytics runs its own DDP over these
    assert train_device("0", 1) == "0"
    assert train_device("cpu", 4) == "cpu"  # no DDP on the CPU: unchanged
