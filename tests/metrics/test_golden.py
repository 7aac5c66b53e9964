"""Every value of the VIFB golden table (generated with CDDFuse's evaluator, pytorch-msssim
1.0 and colour-science, see docs/metrics.md) reproduced within its tolerance."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.metrics.fusion import METRICS, fusion_metrics
from pipeline.metrics.protocol import read_rgb8


def _expected(shared_dir: Path) -> list[dict]:
    path = shared_dir / "golden" / "vifb" / "expected.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open() as f:
        return list(csv.DictReader(f))


def _tolerance(name: str, expected: float) -> float:
    tol = max(1e-4 * abs(expected), 1e-6)
    return max(tol, 1e-4) if name.startswith("MSS") else tol  # reference: MSS summation order


def _check_rows(shared_dir: Path, rows: list[dict]) -> None:
    root = shared_dir / "golden" / "vifb"
    failures = []
    for row in rows:
        stem = row["image"]
        got = fusion_metrics(
            read_rgb8(root / "fused" / row["method"] / f"{stem}.jpg"),
            read_rgb8(root / "ir" / f"{stem}.jpg"),
            read_rgb8(root / "vis" / f"{stem}.jpg"),
        )
        for name in METRICS:
            want, have = float(row[name]), got[name]
            if not abs(have - want) <= _tolerance(name, want) + 5e-7:  # + half a unit of the CSV's 6th decimal
                failures.append(f"{row['method']}/{stem} {name}: {have:.7f} != {want}")
    assert not failures, "\n".join(failures)


def test_golden_subset(shared_dir):
    """A small image for every method (1-channel IR file, a dE-sensitive CNN row) and the row
    whose SSIM needs scikit-image's float32 arithmetic (SeAFusion/labMan): a fast guard."""
    rows = [
        r for r in _expected(shared_dir)
        if r["image"] == "walking2" or (r["method"], r["image"]) == ("SeAFusion", "labMan")
    ]
    assert len(rows) == 4
    _check_rows(shared_dir, rows)


@pytest.mark.slow
def test_golden_all_rows(shared_dir):
    rows = _expected(shared_dir)
    assert len(rows) == 63
    _check_rows(shared_dir, rows)
