"""Fusion metrics of one image: the METRICS registry and its entry point.

    >>> scores = fusion_metrics(fused, ir, vis)    # doctest: +SKIP
    >>> scores["Qabf"]                             # float

Inputs follow the protocol of docs/metrics.md: 8-bit values (uint8 or integer-valued
arrays in 0..255), channels last: fused (H, W) or (H, W, 3), infrared (H, W) or (H, W, 3),
visible (H, W, 3). numpy and OpenCV only: no torch import, so `ssvif metrics` starts fast.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from pipeline.metrics.delta_e import delta_e
from pipeline.metrics.entropy import bits_to_nats, entropy, mi_sum_bits
from pipeline.metrics.msssim import ms_ssim_sum
from pipeline.metrics.protocol import check_8bit, colourise_luminance, rgb_to_gray
from pipeline.metrics.qabf import qabf
from pipeline.metrics.ssim import ssim_sum
from pipeline.metrics.vif import vif_sum


@dataclass(frozen=True)
class FusionInputs:
    """One image on the protocol: RGB (H, W, 3) and rounded gray (H, W) float64, 0..255."""

    fused_rgb: np.ndarray
    vis_rgb: np.ndarray
    fused: np.ndarray
    ir: np.ndarray
    vis: np.ndarray
    shared: dict = field(default_factory=dict)  # intermediates two metrics share

    def once(self, key: str, compute: Callable[[], object]):
        """``compute()`` the first time ``key`` is asked for, the stored value afterwards."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]


def _channels(x: np.ndarray) -> int:
    return 1 if x.ndim == 2 else x.shape[2]


def check_shapes(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """ValueError unless fused, infrared (H, W[, 1 | 3]) and visible (H, W, 3) agree in H, W."""
    for name, x, channels in (("fused", f, (1, 3)), ("infrared", a, (1, 3)), ("visible", b, (3,))):
        if x.ndim not in (2, 3) or _channels(x) not in channels:
            shapes = " or ".join(f"(H, W, {c})" for c in channels)
            raise ValueError(f"{name}: expected shape {shapes}{' or (H, W)' if 1 in channels else ''}, "
                             f"got {tuple(x.shape)}.")
    if not f.shape[:2] == a.shape[:2] == b.shape[:2]:
        raise ValueError(f"fused {tuple(f.shape)}, infrared {tuple(a.shape)} and visible {tuple(b.shape)} differ "
                         "in H, W; the metrics never resize.")


def _checked(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype == np.uint8 else check_8bit(x, name)  # uint8 needs no check and no copy


def prepare_inputs(fused, ir, vis) -> FusionInputs:
    """Check 8-bit values and shapes; colourise a 1-channel fused image; compute gray."""
    f, a, b = _checked(fused, "fused"), _checked(ir, "infrared"), _checked(vis, "visible")
    check_shapes(f, a, b)
    if _channels(f) == 1:  # luminance-only output: Y + visible CbCr (protocol)
        f = colourise_luminance(f.reshape(f.shape[:2]), b)
    a_gray = a.reshape(a.shape[:2]).astype(np.float64) if _channels(a) == 1 else rgb_to_gray(a)
    return FusionInputs(fused_rgb=f, vis_rgb=b, fused=rgb_to_gray(f), ir=a_gray, vis=rgb_to_gray(b))


def _mi_bits(x: FusionInputs) -> float:
    return x.once("MI", lambda: mi_sum_bits(x.fused, x.ir, x.vis))


def _ssim(x: FusionInputs) -> np.ndarray:
    # data_range 2 in scikit-image's float32 arithmetic (the golden values need it), and 255
    return x.once("SSIM", lambda: ssim_sum(x.fused, x.ir, x.vis, data_ranges=(2.0, 255.0), dtype=np.float32))


def _mss(x: FusionInputs) -> np.ndarray:
    # MSS (data_range 1, the paper's regime) and MSS_L255 share every filtered map
    return x.once("MSS", lambda: ms_ssim_sum(x.fused, x.ir, x.vis, data_ranges=(1.0, 255.0)))


# name -> function of FusionInputs giving a float. Names are the output keys.
METRICS: dict[str, Callable[[FusionInputs], float]] = {
    "EN": lambda x: entropy(x.fused),
    "MI": lambda x: _mi_bits(x),
    "MI_nats": lambda x: bits_to_nats(_mi_bits(x)),
    "VIF": lambda x: vif_sum(x.fused, x.ir, x.vis),
    "Qabf": lambda x: qabf(x.fused, x.ir, x.vis),
    "SSIM": lambda x: float(_ssim(x)[0]),
    "SSIM_L255": lambda x: float(_ssim(x)[1]),
    "MSS": lambda x: float(_mss(x)[0]),
    "MSS_L255": lambda x: float(_mss(x)[1]),
    "dE": lambda x: delta_e(x.fused_rgb, x.vis_rgb),
}


def check_metric_names(names: Iterable[str]) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise KeyError(f"unknown fusion metric(s) {unknown}; valid names: {', '.join(METRICS)}")
    return names


def fusion_metrics(fused, ir, vis, names: Iterable[str] = tuple(METRICS)) -> dict[str, float]:
    """Score one image: {metric name: float}. Values can be NaN (Qabf when no source has any gradient)."""
    names = check_metric_names(names)
    inputs = prepare_inputs(fused, ir, vis)
    return {name: float(METRICS[name](inputs)) for name in names}
