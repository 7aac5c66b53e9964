"""Ultralytics' NMS wall-clock limit is lifted: a slow machine keeps every image's detections."""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
import torch


def _one_box_per_image(batch: int) -> torch.Tensor:
    """Raw YOLO output (batch, 4 + 1 class, 1 anchor): one confident box in every image."""
    box = torch.tensor([32.0, 32.0, 16.0, 16.0, 0.9]).view(1, 5, 1)
    return box.repeat(batch, 1, 1)


@pytest.fixture
def slow_clock(monkeypatch):
    """Every clock reading inside NMS is 100 s after the last one: a heavily loaded machine."""
    from ultralytics.utils import nms

    ticks = itertools.count(0.0, 100.0)
    monkeypatch.setattr(nms, "time", SimpleNamespace(time=lambda: next(ticks)))


def test_unpatched_nms_drops_images_on_a_slow_clock(slow_clock):
    from ultralytics.utils import nms

    unpatched = getattr(nms.non_max_suppression, "__wrapped__", nms.non_max_suppression)
    kept = [len(x) for x in unpatched(_one_box_per_image(3), 0.25, 0.7)]
    assert kept == [1, 0, 0]  # the limit this module lifts: images after the first lose their boxes


def test_configured_nms_keeps_every_image_on_a_slow_clock(tmp_path, yolo_env, slow_clock):
    from pipeline.downstream.yolo_offline import configure_offline

    configure_offline(tmp_path / "cfg")
    configure_offline(tmp_path / "cfg")  # a second call must not wrap twice
    from ultralytics.models.yolo.detect import val
    from ultralytics.utils import nms

    assert not hasattr(nms.non_max_suppression.__wrapped__, "__wrapped__")
    # The validator's own lookup (val.py calls nms.non_max_suppression), positional max_time_img included.
    kept = [len(x) for x in val.nms.non_max_suppression(_one_box_per_image(3), 0.25, 0.7, None, False, False, 300, 0, 0.05)]
    assert kept == [1, 1, 1]
