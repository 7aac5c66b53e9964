"""Names of the fusion metrics, without torch: what the metric files hold and what the paper reports.

``METRIC_NAMES`` are the keys of `pipeline.metrics.fusion.METRICS` in their order (checked by
tests/report/test_names.py); ``REPORTED`` are the seven the paper's tables print (the other
three are this project's variants: MI in nats, SSIM and MS-SSIM at data range 255). The
report (pipeline.report) imports them from here.
"""
from __future__ import annotations

METRIC_NAMES: tuple[str, ...] = ("EN", "MI", "MI_nats", "VIF", "Qabf", "SSIM", "SSIM_L255", "MSS", "MSS_L255", "dE")
# The reported metrics, in the paper's column order: their table header, and whether higher is better.
HEADERS: dict[str, str] = {"EN": "EN", "MI": "MI", "VIF": "VIF", "Qabf": "Qabf", "SSIM": "SSIM", "MSS": "MSS",
                           "dE": "ΔE"}
HIGHER_IS_BETTER: dict[str, bool] = {name: name != "dE" for name in HEADERS}  # ΔE is a colour distance
REPORTED: tuple[str, ...] = tuple(HEADERS)
