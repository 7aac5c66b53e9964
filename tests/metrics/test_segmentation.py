"""IoU / mIoU from toy confusion matrices (values computed by hand)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.metrics.segmentation import ConfusionMatrix, iou_report


def test_accumulates_over_batches_and_ignores_255():
    cm = ConfusionMatrix(3, ignore_index=255)
    cm.update(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 255]))
    cm.update(torch.tensor([[0, 0]]), torch.tensor([[1, 0]]))
    np.testing.assert_array_equal(cm.matrix, [[2, 0, 0], [1, 1, 0], [0, 1, 0]])


def test_iou_with_an_absent_class():
    # rows: ground truth; class 2 never occurs in the ground truth but is predicted once
    m = np.array([[3, 1, 0], [0, 2, 1], [0, 0, 0]])
    r = iou_report(m, ["road", "car", "bike"])
    assert r["IoU"]["road"] == pytest.approx(100 * 3 / 4)  # tp 3, gt 4, pred 3
    assert r["IoU"]["car"] == pytest.approx(100 * 2 / 4)  # tp 2, gt 3, pred 3
    assert r["IoU"]["bike"] is None
    assert r["absent_classes"] == ["bike"] and r["present_classes"] == ["road", "car"]
    assert r["mIoU"] == pytest.approx((75 + 50) / 2)


def test_bad_indices_and_shapes_raise():
    cm = ConfusionMatrix(2)
    with pytest.raises(ValueError, match="outside"):
        cm.update(np.array([0, 5]), np.array([0, 1]))
    with pytest.raises(ValueError, match="shapes"):
        cm.update(np.array([0]), np.array([0, 1]))
    with pytest.raises(TypeError):
        cm.update(np.array([0.5]), np.array([0]))
    with pytest.raises(ValueError, match="class names"):
        iou_report(np.zeros((2, 2)), ["a"])
