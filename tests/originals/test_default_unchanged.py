"""The SwinFusion `fusion_residual` option leaves the default computation byte for byte as before
(the training stages' committed outputs depend on it)."""
from __future__ import annotations

import numpy as np

from tests.golden.originals.make_default_reference import REFERENCE, default_outputs


def test_default_swinfusion_output_bytes_unchanged():
    before = dict(np.load(REFERENCE))
    now = default_outputs()
    assert sorted(now) == sorted(before)
    for key in before:
        assert now[key].tobytes() == before[key].tobytes(), f"default SwinFusion output changed: {key}"
