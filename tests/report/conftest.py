"""Fixture metric files for the report tests: every file the tables read, with made-up values.

Values are a deterministic function of (file, key), so golden renderings stay fixed.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.report.sources import Methods, required_files

RUN = dict(framework="ssvif", model="swinfusion", dataset="fmb", channels=3, n_classes=15, lambda_color=20,
           csc=True, two_stage=True, fuse_m3fd=False)
ABLATIONS = {"nocsc": {"csc": False}, "onestage": {"two_stage": False}, "n9": {"n_classes": 9},
             "l10": {"lambda_color": 10}, "l30": {"lambda_color": 30}, "1ch": {"channels": 1}}
RUNS = {
    "ssvif-swinfusion-fmb": {**RUN, "headline": True, "fuse_m3fd": True},
    "ssvif-swinfusion-msrs": {**RUN, "headline": True, "dataset": "msrs"},
    **{f"original-{m}-{d}": {**RUN, "framework": "original", "model": m, "dataset": d, "channels": 1,
                             "fuse_m3fd": d == "fmb"}
       for m in ("swinfusion", "emma", "seafusion") for d in ("fmb", "msrs")},
    **{f"ssvif-{m}-fmb": {**RUN, "model": m, "weighting": "gdwa"} for m in ("emma", "seafusion")},
    **{f"ssvif-swinfusion-fmb-{w}": {**RUN, "weighting": w} for w in ("fixed", "ucw", "dwa", "segmif")},
    **{f"ssvif-swinfusion-fmb-{s}": {**RUN, "weighting": "gdwa", **d} for s, d in ABLATIONS.items()},
}
FMB_CLASSES = ("background", "Person", "Road", "Car", "Bus", "Lamp", "Bicycle")
MSRS_CLASSES = ("unlabelled", "car", "person", "bike", "curve", "bump")
DETECT = ("People", "Car", "Bus", "Motorcycle", "Lamp", "Truck")


def fake(*key: str, low: float = 0.0, high: float = 1.0) -> float:
    h = int(hashlib.sha256("|".join(key).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return round(low + (high - low) * h, 6)


def fake_file(rel: str) -> dict:
    if rel.startswith("fusion/"):
        ranges = dict(EN=(6, 7), MI=(3, 5), VIF=(0.6, 1), Qabf=(0.4, 0.7), SSIM=(0.8, 1.05), MSS=(0.8, 1.1), dE=(3, 8))
        return {k: fake(rel, k, low=a, high=b) for k, (a, b) in ranges.items()} | {"count": 10, "nan_counts": {}}
    if rel.startswith("segment/"):
        classes = FMB_CLASSES if rel.endswith("-fmb.json") else MSRS_CLASSES
        iou = {c: fake(rel, c, low=30, high=99) for c in classes}
        iou["Bicycle" if "Bicycle" in iou else "bump"] = None if "Bicycle" in iou else iou["bump"]
        return {"mIoU": fake(rel, "mIoU", low=55, high=65), "IoU": iou, "absent_classes": []}
    if rel.startswith("detect/"):
        return {"mAP50": fake(rel, "mAP", low=75, high=82), "AP50": {c: fake(rel, c, low=50, high=95) for c in DETECT}}
    return {m: {fw: {"params_M": fake(m, fw, "p", high=2), "macs_G": fake(m, fw, "m", high=80),
                     "mem_MB": fake(m, fw, "b", high=700), "cuda_mem_MB": "n/a"} for fw in ("original", "ssvif")}
            for m in ("swinfusion", "emma", "seafusion")} | {"device": "cpu"}


@pytest.fixture
def methods() -> Methods:
    return Methods(RUNS, rules=("max", "mean", "visible", "infrared"), externals=("cddfuse",), weighting="gdwa")


@pytest.fixture
def metrics_dir(tmp_path: Path, methods: Methods) -> Path:
    root = tmp_path / "metrics"
    for rel in required_files(methods):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fake_file(rel), sort_keys=True))
    return root
