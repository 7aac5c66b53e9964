"""pipeline.malloc: a heap-reuse switch that changes speed only, never a value."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from pipeline.malloc import reuse_freed_memory

# one 480x640 image's metrics, printed as exact floats (repr), in a fresh process
_SCORE = """
import json, sys
import numpy as np
from pipeline.malloc import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
from pipeline.metrics.fusion import fusion_metrics
rng = np.random.default_rng(7)
vis = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
ir = rng.integers(0, 256, (480, 640), dtype=np.uint8)
fused = ((vis.astype(np.uint16) + ir[..., None]) // 2).astype(np.uint8)
print(json.dumps({k: repr(v) for k, v in fusion_metrics(fused, ir, vis).items()}))
"""


def test_reuse_is_idempotent_and_reports_whether_applied():
    first = reuse_freed_memory()
    assert isinstance(first, bool) and reuse_freed_memory() is first
    if sys.platform.startswith("linux") and "glibc" in " ".join(__import__("platform").libc_ver()):
        assert first  # glibc: mallopt accepted both thresholds


def test_metric_values_do_not_depend_on_heap_reuse():
    def run(mode: str) -> dict:
        out = subprocess.run([sys.executable, "-c", _SCORE, mode], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    plain, reuse = run("plain"), run("reuse")
    assert plain == reuse
    assert all(np.isfinite(float(v)) for v in plain.values())
