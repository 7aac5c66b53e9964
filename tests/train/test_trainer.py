import io

import pytest
import torch

from pipeline.losses.fusion_loss import FusionLossWeights, fusion_loss
from pipeline.models.seg_head import SegmentationHead
from pipeline.models.segformer_branch import SegmentationModel
from pipeline.train.history import COLUMNS, history_csv
from pipeline.train.config import TrainConfig
from pipeline.train.schedule import StageSchedule, stage_two_starts
from pipeline.train.strategies import SSVIFStrategy
from pipeline.train.trainer import Trainer
from pipeline.weighting.registry import WEIGHTINGS, create_weighting
from tests.train.standin import StandInFusion, toy_batches

WEIGHTING_PARAMS = dict(fixed_w=0.1, gdwa_temperature=2.0, dwa_temperature=2.0, segmif_temperature=1000.0,
                        segmif_warmup_iters=2, ucw_init=-0.5)
TINY_SEGFORMER = dict(hidden_sizes=[4, 8, 8, 8], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1],
                      decoder_hidden_size=8)


def _loss(_model, fused, ir, vis):
    return fusion_loss(fused, ir, vis, FusionLossWeights())["total"]


def _trainer(weighting="gdwa", epochs=4, csc=True, two_stage=True, n=3, log=None):
    torch.manual_seed(0)
    config = TrainConfig(epochs=epochs, batch=2, lr=1e-3, patience=2, csc=csc, two_stage=two_stage,
                         stage_one_max_epochs=1)
    model = StandInFusion(3)
    extra = (SegmentationHead(model.feature_channels, n), SegmentationModel(n, 3, **TINY_SEGFORMER),
             create_weighting(weighting, WEIGHTING_PARAMS)) if csc else (None, None, None)
    return Trainer(config, SSVIFStrategy(model, _loss, *extra), device="cpu", log=log or (lambda line: None))


def _fit(trainer, work_dir=None, on_epoch_end=None):
    return trainer.fit(lambda e: toy_batches(2, seed=e), lambda: toy_batches(1, seed=99), work_dir, on_epoch_end)


def test_stage_switch_rule_on_a_loss_sequence():
    assert not stage_two_starts([5.0])
    assert not stage_two_starts([5.0, 4.0, 3.0])
    assert not stage_two_starts([5.0, 5.0])  # equal is not a rise
    assert stage_two_starts([5.0, 4.0, 4.5])


def _rows(*fusion_means, stage=1):
    return [{"stage": stage, "loss_fus": m} for m in fusion_means]


def test_schedule_gives_each_epoch_its_stage():
    paper = StageSchedule(csc=True, two_stage=True)
    assert paper.next_stage([]) == 1
    assert paper.next_stage(_rows(5.0, 4.0)) == 1
    assert paper.next_stage(_rows(5.0, 4.0, 4.5)) == 2  # the first rise of the epoch-mean L_fus
    assert paper.next_stage(_rows(5.0, 4.0, 4.5) + _rows(3.0, stage=2)) == 2  # stage II never ends
    capped = StageSchedule(csc=True, two_stage=True, stage_one_max_epochs=2)
    assert [capped.next_stage(_rows(*[5.0, 4.0][:n])) for n in range(3)] == [1, 1, 2]
    assert StageSchedule(csc=True, two_stage=False).next_stage([]) == 2
    assert StageSchedule(csc=False, two_stage=True).next_stage(_rows(5.0, 6.0)) == 1
    assert (paper.final_stage, StageSchedule(csc=False, two_stage=True).final_stage) == (2, 1)


@pytest.mark.parametrize("weighting", list(WEIGHTINGS))
def test_each_weighting_runs_stage_two_steps_and_logs_its_weight(weighting):
    result = _fit(_trainer(weighting, epochs=2))
    first, second = result["history"]
    assert first["stage"] == 1 and "w_csc" not in first
    assert second["stage"] == 2 and second["w_csc"] > 0 and second["loss_csc"] > 0
    assert {"grad_norm_fus", "grad_norm_csc", "alpha_cf", "cos_phi_cf"} <= set(second)


def test_stage_two_trains_head_and_segmenter_only_after_the_switch():
    trainer = _trainer("fixed", epochs=1)
    before = [p.clone() for p in trainer.strategy.segmenter.parameters()]
    _fit(trainer)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.strategy.segmenter.parameters()))
    trainer.config = TrainConfig(**{**trainer.config.__dict__, "epochs": 2})
    _fit(trainer)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.strategy.segmenter.parameters()))


def test_ablations_one_stage_and_without_csc():
    assert [r["stage"] for r in _fit(_trainer(two_stage=False, epochs=2))["history"]] == [2, 2]
    history = _fit(_trainer(csc=False, epochs=2))["history"]
    assert [r["stage"] for r in history] == [1, 1] and all("loss_csc" not in r for r in history)


def test_stage_two_gradient_is_that_of_the_weighted_total():
    """The two-pass gradient (autograd.grad + backward) equals backward of L_fus + w L_csc."""
    a, b = _trainer("fixed"), _trainer("fixed")
    b.config = TrainConfig(**{**b.config.__dict__, "gradient_stats": False})
    batch = toy_batches(1)[0]
    for t in (a, b):
        torch.manual_seed(5)
        t.optimizer.step = lambda: None  # keep the gradients for comparison
        row = t.strategy.step(batch, 2, t.optimizer, t.config)
        assert ("alpha_cf" in row) == t.config.gradient_stats
    for p, q in zip(a.strategy.fusion.parameters(), b.strategy.fusion.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7)
    for p, q in zip(a.strategy.segmenter.parameters(), b.strategy.segmenter.parameters()):
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7)


def _bytes(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def test_resume_after_an_interruption_matches_an_uninterrupted_run(tmp_path):
    full = _fit(_trainer("ucw"))

    class Interrupt(Exception):
        pass

    def stop_after_two(epoch):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        _fit(_trainer("ucw"), tmp_path, stop_after_two)
    lines = []
    resumed = _fit(_trainer("ucw", log=lines.append), tmp_path)
    assert lines[0].startswith("resumed") and "after epoch 2" in lines[0]
    assert [r["epoch"] for r in resumed["history"]] == [1, 2, 3, 4]
    assert resumed["history"] == full["history"]
    assert _bytes(resumed["state_dict"]) == _bytes(full["state_dict"])


def test_identical_runs_give_byte_identical_checkpoints():
    a, b = _fit(_trainer("gdwa")), _fit(_trainer("gdwa"))
    assert _bytes(a["state_dict"]) == _bytes(b["state_dict"])
    assert history_csv(a["history"]) == history_csv(b["history"])


def test_history_csv_has_the_columns_and_leaves_stage_one_csc_empty():
    text = history_csv(_fit(_trainer("fixed", epochs=2))["history"])
    header, first, second = text.splitlines()
    assert header.split(",") == list(COLUMNS)
    cells = dict(zip(COLUMNS, first.split(",")))
    assert cells["stage"] == "1" and cells["loss_csc"] == "" and cells["w_csc"] == ""
    assert dict(zip(COLUMNS, second.split(",")))["w_csc"] == "0.100000"


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    _fit(_trainer("fixed", epochs=1), tmp_path)
    with pytest.raises(ValueError, match="different configuration"):
        _fit(_trainer("fixed", epochs=2), tmp_path)


def test_resume_checkpoint_keeps_the_keys_older_work_dirs_have(tmp_path):
    """A work dir written before the trainer was split resumes: last.pt keeps its keys and meanings."""
    _fit(_trainer("fixed", epochs=3), tmp_path)
    state = torch.load(tmp_path / "last.pt", weights_only=False)
    assert list(state) == ["config", "modules", "optimizer", "history", "stage_two", "best_val", "best_state",
                           "best_epoch", "since_best", "stopped"]
    assert state["stage_two"] is True and [r["stage"] for r in state["history"]] == [1, 2, 2]
