"""The shared stage I (issue 21): a run continued from its unit's state is the run trained alone, byte for byte.

Trainer level, with the stand-in fusion model (seconds); tests/train/test_stage_one_stages.py proves the same
through the stages' commands with the real models, and the grouping rule is tested here too.
"""
from __future__ import annotations

import io

import pytest
import torch
import yaml

from pipeline.models.seg_head import SegmentationHead
from pipeline.models.segformer_branch import SegmentationModel
from pipeline.train import stage_one
from pipeline.train.config import TrainConfig
from pipeline.train.history import history_csv
from pipeline.train.strategies import SSVIFStrategy
from pipeline.train.trainer import Trainer
from pipeline.weighting.registry import create_weighting
from tests.train.standin import StandInFusion, toy_batches
from tests.train.test_trainer import TINY_SEGFORMER, WEIGHTING_PARAMS, _loss

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
EPOCHS, STAGE_ONE_EPOCHS = 5, 2


def _config(csc=True, patience=2, **changes) -> TrainConfig:
    return TrainConfig(**{**dict(epochs=EPOCHS, batch=2, lr=1e-2, patience=patience, csc=csc, two_stage=True,
                                 stage_one_max_epochs=STAGE_ONE_EPOCHS), **changes})


def _trainer(weighting="gdwa", n=3, csc=True, patience=2, log=None, lr=1e-2, **config) -> Trainer:
    """As build_trainer: F seeded first, then (CSC) head H, SegFormer S and the weighting."""
    torch.manual_seed(0)
    model = StandInFusion(3)
    extra = (SegmentationHead(model.feature_channels, n), SegmentationModel(n, 3, **TINY_SEGFORMER),
             create_weighting(weighting, WEIGHTING_PARAMS)) if csc else (None, None, None)
    return Trainer(_config(csc, patience, lr=lr, **config), SSVIFStrategy(model, _loss, *extra), device="cpu",
                   log=log or (lambda line: None))


def _fit(trainer, work_dir=None, on_epoch_end=None, val=None, **options):
    val = val or toy_batches(2, seed=99)
    return trainer.fit(lambda e: toy_batches(3, seed=e), lambda: val, work_dir, on_epoch_end, **options)


def _unit_state(work_dir=None, on_epoch_end=None, lr=1e-2, val=None, **config) -> dict:
    """The shared stage I as pipeline.train.run.train_stage_one trains it (F alone, patience 0), through bytes."""
    trainer = _trainer(csc=False, patience=0, lr=lr, **config)
    _fit(trainer, work_dir, on_epoch_end, val, until_stage_two=True)
    buffer = io.BytesIO()
    torch.save(trainer.stage_one_state(), buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)


def _assert_identical(alone: dict, continued: dict) -> None:
    assert continued["history"] == alone["history"]  # every float of every row, not rounded
    assert history_csv(continued["history"]) == history_csv(alone["history"])
    assert continued["best_epoch"] == alone["best_epoch"]
    assert list(continued["state_dict"]) == list(alone["state_dict"])
    for key, tensor in alone["state_dict"].items():
        assert torch.equal(continued["state_dict"][key], tensor), key


@pytest.fixture(scope="module")
def unit() -> dict:
    return _unit_state()


def test_the_unit_stops_where_a_two_stage_run_switches(unit):
    alone = _fit(_trainer("gdwa"))
    switch = [r["stage"] for r in alone["history"]].index(2)
    assert [r["stage"] for r in unit["history"]] == [1] * switch == [1] * STAGE_ONE_EPOCHS
    assert unit["history"] == alone["history"][:switch]
    assert set(unit["optimizer"]) == set(range(unit["fusion_parameters"]))  # Adam state of F's parameters only


@pytest.mark.parametrize("weighting, n", [("gdwa", 3), ("ucw", 5)])
def test_a_csc_run_continued_from_the_shared_stage_one_is_the_run_trained_alone(unit, weighting, n):
    """(a) GDWA; (b) the same group with other n_classes and UCW (learnable weighting parameters)."""
    _assert_identical(_fit(_trainer(weighting, n)), _fit(_trainer(weighting, n), stage_one=unit))


def test_the_csc_false_run_continues_in_stage_one_without_a_restart(unit):
    """(c) CSC off: stage I throughout; its selection spans the unit's epochs (no restart at the switch)."""
    alone = _fit(_trainer(csc=False))
    assert all(r["stage"] == 1 for r in alone["history"]) and len(alone["history"]) > STAGE_ONE_EPOCHS
    _assert_identical(alone, _fit(_trainer(csc=False), stage_one=unit))


def test_the_csc_false_run_keeps_a_best_epoch_of_the_unit_and_counts_patience_across_it():
    """(c) where a restart would show: at this rate its best epoch is the unit's last and it stops two later."""
    lr = 0.17
    alone = _fit(_trainer(csc=False, lr=lr))
    assert alone["best_epoch"] == STAGE_ONE_EPOCHS and len(alone["history"]) == STAGE_ONE_EPOCHS + 2 < EPOCHS
    _assert_identical(alone, _fit(_trainer(csc=False, lr=lr), stage_one=_unit_state(lr=lr)))


@pytest.mark.parametrize("stage_one_max_epochs, kept", [(2, 2), (3, 1)])
def test_a_unit_that_ends_at_epochs_gives_the_run_trained_alone(stage_one_max_epochs, kept):
    """`epochs` before the switch, on validation images whose best epoch is the first: with the switch due next
    the run restarts its selection after the last epoch and keeps that (as fit does), else stage I's best."""
    short, val = dict(epochs=2, stage_one_max_epochs=stage_one_max_epochs), [
        {"ir": torch.ones(1, 1, 16, 16), "vis": torch.zeros(1, 3, 16, 16)}]  # L_fus on it rises as F trains
    unit = _unit_state(val=val, **short)
    assert len(unit["history"]) == 2
    alone = _fit(_trainer("ucw", **short), val=val)
    assert alone["best_epoch"] == kept and [r["stage"] for r in alone["history"]] == [1, 1]
    _assert_identical(alone, _fit(_trainer("ucw", **short), val=val, stage_one=unit))


def test_continuing_takes_the_whole_state_not_only_the_weights(unit):
    """Without the Adam state the run would differ: the comparisons above can see it."""
    alone = _fit(_trainer("gdwa"))
    no_adam = {**unit, "optimizer": {}}
    assert _fit(_trainer("gdwa"), stage_one=no_adam)["history"] != alone["history"]


def _with_val(unit: dict, values: list[float], best_epoch: int) -> dict:
    rows = [{**row, "epoch": i + 1, "loss_val": v} for i, (row, v) in enumerate(zip(unit["history"] * 3, values))]
    return {**unit, "history": rows, "best_epoch": best_epoch, "best_val": min(values)}


def test_a_csc_false_run_replays_its_patience_over_the_shared_epochs(unit):
    """Early stopping acts in a csc-false run's stage I: inside the unit's epochs it stops where alone it would."""
    stops = _with_val(unit, [1.0, 0.5, 0.6, 0.7, 0.8], best_epoch=2)  # patience 2: stops after epoch 4
    trainer = _trainer(csc=False)
    assert trainer.continue_from(stops)
    assert [r["epoch"] for r in trainer.history] == [1, 2, 3, 4] and trainer.selection.stopped
    assert trainer.selection.best_epoch == 2 and trainer.selection.best_state is stops["best_state"]
    later = _with_val(unit, [1.0, 0.5, 0.6, 0.7, 0.4], best_epoch=5)  # the kept weights (epoch 2) are gone
    trainer = _trainer(csc=False)
    before = {k: v.clone() for k, v in trainer.strategy.fusion.state_dict().items()}
    assert not trainer.continue_from(later) and trainer.history == []
    assert all(torch.equal(before[k], v) for k, v in trainer.strategy.fusion.state_dict().items())
    lines = []
    _assert_identical(_fit(_trainer(csc=False)), _fit(_trainer(csc=False, log=lines.append), stage_one=later))
    assert any("trains alone" in line for line in lines)


def test_the_unit_and_a_continuing_run_resume_after_an_interruption(unit, tmp_path):
    class Interrupt(Exception):
        pass

    def stop_after(epochs):
        def check(epoch):
            if epoch == epochs:
                raise Interrupt
        return check

    with pytest.raises(Interrupt):
        _unit_state(tmp_path / "unit", stop_after(1))
    resumed = _unit_state(tmp_path / "unit")
    assert resumed["history"] == unit["history"]
    assert all(torch.equal(resumed["fusion"][k], v) for k, v in unit["fusion"].items())
    with pytest.raises(Interrupt):
        _fit(_trainer("ucw"), tmp_path / "run", stop_after(STAGE_ONE_EPOCHS + 1), stage_one=unit)
    lines = []
    continued = _fit(_trainer("ucw", log=lines.append), tmp_path / "run", stage_one=unit)
    assert lines[0].startswith("resumed") and f"after epoch {STAGE_ONE_EPOCHS + 1}" in lines[0]
    _assert_identical(_fit(_trainer("ucw")), continued)


def test_a_unit_resumed_after_its_last_epoch_writes_the_bytes_of_one_trained_through(tmp_path):
    """The stage_one.pt of a unit re-run over its finished work dir (its kept epoch read back from last.pt)
    is the file of the unit trained through: DVC's lock records its md5 (issue 21's CI failure)."""
    from pipeline.train.checkpoint import save_stage_one_state

    def unit_file(name: str, work_dir) -> bytes:
        trainer = _trainer(csc=False, patience=0)
        _fit(trainer, work_dir, until_stage_two=True)
        save_stage_one_state(tmp_path / name, {"unit": "u"}, trainer.stage_one_state())
        return (tmp_path / name).read_bytes()

    through = unit_file("through.pt", tmp_path / "work")
    assert unit_file("resumed.pt", tmp_path / "work") == through  # the work dir now holds the finished epochs
    assert unit_file("no-work.pt", None) == through


# ---------------------------------------------------------------- the grouping rule

def test_the_fmb_swinfusion_runs_share_one_unit_and_the_others_their_own():
    runs = yaml.safe_load((ROOT / "params.yaml").read_text())["runs"]
    unit = {name: stage_one.unit_name(name, run) for name, run in runs.items()}
    shared = {n for n, u in unit.items() if u == "swinfusion-fmb-3ch-l20"}
    assert shared == {f"ssvif-swinfusion-fmb{s}" for s in ("", "-fixed", "-ucw", "-dwa", "-segmif", "-nocsc", "-n9")}
    assert unit["ssvif-swinfusion-fmb-onestage"] is None
    assert all(u is None for n, u in unit.items() if runs[n]["framework"] == "original")
    own = ["ssvif-swinfusion-fmb-l10", "ssvif-swinfusion-fmb-l30", "ssvif-swinfusion-fmb-1ch", "ssvif-swinfusion-msrs",
           "ssvif-emma-fmb", "ssvif-seafusion-fmb"]
    assert len({unit[n] for n in own}) == len(own) and not {unit[n] for n in own} & {"swinfusion-fmb-3ch-l20"}
    assert stage_one.unit_name("ssvif-swinfusion-fmb", runs["ssvif-swinfusion-fmb"], 2) == "swinfusion-fmb-3ch-l20-s2"
    assert stage_one.units(runs)["swinfusion-fmb-3ch-l20"] == "ssvif-swinfusion-fmb"  # the first member


def test_the_declared_stage_one_train_fields_are_every_field_it_does_not_ignore():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for profile in ("quick", "paper"):
        fields = set(params[profile]["train"])
        assert set(stage_one.TRAIN_FIELDS) == fields - set(stage_one.UNREAD_TRAIN), profile
