"""Fusion metrics on batches: the METRICS registry and its batched entry point.

    >>> scores = fusion_metrics(fused, ir, vis)    # doctest: +SKIP
    >>> scores["Qabf"].shape                       # (B,) float64

Inputs follow the protocol of reference/metrics.md: 8-bit values (uint8 or integer-valued
floats in 0..255), fused (B, 1 | 3, H, W), infrared (B, 1 | 3, H, W), visible (B, 3, H, W).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Callable, Iterable

import torch

from pipeline.metrics.delta_e import delta_e
from pipeline.metrics.entropy import bits_to_nats, entropy, mi_sum_bits
from pipeline.metrics.msssim import ms_ssim_sum
from pipeline.metrics.protocol import check_8bit, colourise_luminance, rgb_to_gray
from pipeline.metrics.qabf import qabf
from pipeline.metrics.ssim import ssim_sum
from pipeline.metrics.vif import vif_sum


@dataclass(frozen=True)
class FusionInputs:
    """One batch on the protocol: RGB (B, 3, H, W) and rounded gray (B, 1, H, W), float64 0..255."""

    fused_rgb: torch.Tensor
    vis_rgb: torch.Tensor
    fused: torch.Tensor
    ir: torch.Tensor
    vis: torch.Tensor
    shared: dict = field(default_factory=dict)  # intermediates two metrics share

    def once(self, key: str, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        """``compute()`` the first time ``key`` is asked for, the stored value afterwards."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]


def check_shapes(f: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """ValueError unless fused, infrared (B, 1 | 3, H, W) and visible (B, 3, H, W) agree in B, H, W."""
    for name, x, channels in (("fused", f, (1, 3)), ("infrared", a, (1, 3)), ("visible", b, (3,))):
        if x.ndim != 4 or x.shape[1] not in channels:
            raise ValueError(f"{name}: expected shape (B, {' or '.join(map(str, channels))}, H, W), got {tuple(x.shape)}.")
    if not (f.shape[0] == a.shape[0] == b.shape[0] and f.shape[-2:] == a.shape[-2:] == b.shape[-2:]):
        raise ValueError(
            f"fused {tuple(f.shape)}, infrared {tuple(a.shape)} and visible {tuple(b.shape)} differ in "
            "batch size or H, W; the metrics never resize."
        )


def prepare_inputs(fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor) -> FusionInputs:
    """Check 8-bit values and shapes; colourise a 1-channel fused image; compute gray."""
    f, b = check_8bit(fused, "fused"), check_8bit(vis, "visible")
    # 3-channel uint8 infrared: only its gray is used, no float64 copy needed
    a = ir if ir.dtype == torch.uint8 and ir.ndim == 4 and ir.shape[1] == 3 else check_8bit(ir, "infrared")
    check_shapes(f, a, b)
    if f.shape[1] == 1:  # luminance-only output: Y + visible CbCr (protocol)
        f = fused = colourise_luminance(f, b)
    # gray from the uint8 inputs where given (same values): 3x faster to convert than float64
    gray = lambda raw, checked: rgb_to_gray(raw if raw.dtype == torch.uint8 else checked)  # noqa: E731
    a_gray = a if a.shape[1] == 1 else rgb_to_gray(a)
    return FusionInputs(fused_rgb=f, vis_rgb=b, fused=gray(fused, f), ir=a_gray, vis=gray(vis, b))


def _mi_bits(x: FusionInputs) -> torch.Tensor:
    return x.once("MI", lambda: mi_sum_bits(x.fused, x.ir, x.vis))


def _ssim(x: FusionInputs) -> torch.Tensor:
    # data_range 2 in scikit-image's float32 arithmetic (the golden values need it), and 255
    return x.once("SSIM", lambda: ssim_sum(x.fused, x.ir, x.vis, data_ranges=(2.0, 255.0), dtype=torch.float32))


def _mss(x: FusionInputs) -> torch.Tensor:
    # MSS (data_range 1, the paper's regime) and MSS_L255 share every filtered map
    return x.once("MSS", lambda: ms_ssim_sum(x.fused, x.ir, x.vis, data_ranges=(1.0, 255.0)))


# name -> function of FusionInputs giving (B,) float64. Names are the output keys.
METRICS: dict[str, Callable[[FusionInputs], torch.Tensor]] = {
    "EN": lambda x: entropy(x.fused),
    "MI": lambda x: _mi_bits(x),
    "MI_nats": lambda x: bits_to_nats(_mi_bits(x)),
    "VIF": lambda x: vif_sum(x.fused, x.ir, x.vis),
    "Qabf": lambda x: qabf(x.fused, x.ir, x.vis),
    "SSIM": lambda x: _ssim(x)[0],
    "SSIM_L255": lambda x: _ssim(x)[1],
    "MSS": lambda x: _mss(x)[0],
    "MSS_L255": lambda x: _mss(x)[1],
    "dE": lambda x: delta_e(x.fused_rgb, x.vis_rgb),
}


def check_metric_names(names: Iterable[str]) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise KeyError(f"unknown fusion metric(s) {unknown}; valid names: {', '.join(METRICS)}")
    return names


def _on_workers(tensors: tuple[torch.Tensor, ...], job: Callable[..., dict]) -> dict[str, torch.Tensor]:
    """``job(*part)`` for consecutive runs of images of ``tensors``, on CPU worker threads.

    With ``torch.get_num_threads()`` = n, up to n workers each run single-threaded
    operations (the caller's thread count is restored afterwards): the metrics are
    thousands of small operations on cache-sized strips, and intra-op threads
    synchronising on every one of them ran 5-10x SLOWER than one thread on the shared,
    loaded 2-core CPU. Every image is scored on its own: the values are the same as in
    one thread (to ~1e-17, float64 summation order across the two sources).
    """
    threads = torch.get_num_threads()
    workers = min(threads, tensors[0].shape[0])

    def single_threaded(part):
        torch.set_num_threads(1)  # this worker's own operations
        with torch.no_grad():
            return job(*part)

    try:
        if workers <= 1:  # even a single image: one thread (see above)
            return single_threaded(tensors)
        chunks = [c for c in zip(*(t.tensor_split(workers) for t in tensors)) if c[0].shape[0] > 0]
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(single_threaded, chunks))
    finally:
        torch.set_num_threads(threads)
    return {name: torch.cat([p[name] for p in parts]) for name in parts[0]}


def _score(x: FusionInputs, names: list[str]) -> dict[str, torch.Tensor]:
    return {name: METRICS[name](x) for name in names}


def score_inputs(inputs: FusionInputs, names: list[str]) -> dict[str, torch.Tensor]:
    """{name: (B,) float64} for prepared inputs; on CPU shared among worker threads (``_on_workers``)."""
    if inputs.fused.device.type != "cpu":
        with torch.no_grad():
            return _score(inputs, names)
    tensors = tuple(getattr(inputs, f.name) for f in fields(inputs) if f.name != "shared")
    return _on_workers(tensors, lambda *t: _score(FusionInputs(*t), names))  # fresh shared caches


@torch.no_grad()
def fusion_metrics(
    fused: torch.Tensor, ir: torch.Tensor, vis: torch.Tensor, names: Iterable[str] = tuple(METRICS)
) -> dict[str, torch.Tensor]:
    """Score a batch of same-size images: {metric name: (B,) float64 tensor}.

    Values can be NaN (Qabf when no source has any gradient); callers count them.
    Threads: see ``_on_workers``.
    """
    names = check_metric_names(names)
    if fused.device.type != "cpu":
        return {name: value.cpu() for name, value in score_inputs(prepare_inputs(fused, ir, vis), names).items()}
    # whole-batch checks first (errors name the whole batch), then each worker prepares its own
    # images too: the float64 copies and gray conversions run in parallel with the rest
    checked = [x if x.dtype == torch.uint8 else check_8bit(x, name)
               for x, name in ((fused, "fused"), (ir, "infrared"), (vis, "visible"))]
    check_shapes(*checked)
    return _on_workers(tuple(checked), lambda f, a, b: _score(prepare_inputs(f, a, b), names))
