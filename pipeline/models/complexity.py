"""Model complexity for Table IV: parameters, MACs, peak inference memory.

- MACs: ``torch.utils.flop_counter.FlopCounterMode`` counts convolutions, linear layers and
  matmuls (attention's q@k^T and attn@v included; the models write attention as matmuls);
  FLOPs / 2 = MACs. Counted on the meta device: no arithmetic is done, so it is fast and exact.
- Peak memory (``peak_memory_mb``): a TorchDispatchMode that tracks the bytes of every live
  tensor storage (parameters, buffers, inputs, activations) during one inference forward
  pass under ``torch.no_grad()``, and records the maximum. It depends only on the sequence of
  operators, so it is deterministic and the same on CPU and CUDA; it ignores allocator
  rounding and kernels' private workspaces. ``cuda_peak_memory_mb`` gives the allocator's view
  (``torch.cuda.max_memory_allocated``) when a GPU is there.
"""
from __future__ import annotations

import weakref

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

MB = 2**20


def count_parameters(model: nn.Module) -> int:
    """Number of parameters, registered-but-unused modules included (as Table IV counts)."""
    return sum(p.numel() for p in model.parameters())


def _inputs(channels: int, size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """One (1, channels, size, size) infrared/visible pair at 0.5 (values do not change counts)."""
    x = torch.full((1, channels, size, size), 0.5, device=device)
    return x, x.clone()


def count_macs(model: nn.Module, channels: int, size: int = 256) -> int:
    """Multiply-accumulates of one forward pass on a (1, channels, size, size) pair."""
    meta = _meta_copy(model)
    ir, vis = _inputs(channels, size, "meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        meta(ir, vis)
    return counter.get_total_flops() // 2


def _meta_copy(model: nn.Module) -> nn.Module:
    """The model with every parameter and buffer on the meta device (shapes only)."""
    import copy

    clone = copy.deepcopy(model).eval()
    return clone.to("meta")


class LiveTensorBytes(TorchDispatchMode):
    """Tracks the bytes of live tensor storages created by operators, and their peak."""

    def __init__(self, baseline: int, known: set[int]):
        super().__init__()
        self.current = self.peak = baseline
        self.known = known  # storages counted in the baseline (parameters, buffers, inputs)
        self.refs: dict[int, int] = {}
        self.sizes: dict[int, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out

    def _track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key in self.known or storage.nbytes() == 0:
            return
        if key not in self.refs:
            self.refs[key], self.sizes[key] = 0, storage.nbytes()
            self.current += self.sizes[key]
            self.peak = max(self.peak, self.current)
        self.refs[key] += 1  # one per tensor object; freed when the last one dies
        weakref.finalize(t, self._release, key)

    def _release(self, key: int) -> None:
        self.refs[key] -= 1
        if self.refs[key] == 0:
            self.current -= self.sizes.pop(key)
            del self.refs[key]


def peak_memory_mb(model: nn.Module, channels: int, size: int = 256, device: str = "cpu") -> float:
    """Peak bytes of live tensors (MB = 2^20 bytes) for one inference pass at size x size."""
    model = model.to(device).eval()
    ir, vis = _inputs(channels, size, device)
    held = list(model.parameters()) + list(model.buffers()) + [ir, vis]
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in held}
    mode = LiveTensorBytes(sum(storages.values()), set(storages))
    with torch.no_grad(), mode:
        out = model(ir, vis)
    del out
    return mode.peak / MB


def cuda_peak_memory_mb(model: nn.Module, channels: int, size: int = 256) -> float:
    """``torch.cuda.max_memory_allocated`` over one inference pass (MB); needs CUDA."""
    model = model.to("cuda").eval()
    ir, vis = _inputs(channels, size, "cuda")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        model(ir, vis)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / MB


# Table IV compares each fusion model as its original framework runs it (1 channel: Y / IR)
# with the same architecture trained by SSVIF (3 channels: RGB / IR repeated).
FRAMEWORK_CHANNELS = {"original": 1, "ssvif": 3}


def model_efficiency(model: nn.Module, channels: int, size: int = 256, device: str = "cpu") -> dict:
    """Parameters, MACs and peak live-tensor memory of one model at size x size, rounded for JSON."""
    params = count_parameters(model)
    macs = count_macs(model, channels, size)
    return {
        "params": params,
        "params_M": round(params / 1e6, 6),
        "macs": macs,
        "macs_G": round(macs / 1e9, 6),
        "mem_MB": round(peak_memory_mb(model, channels, size, device), 6),
        "input": f"({size},{size},{channels})",
    }


def efficiency_table(widths: dict[str, dict], size: int = 256, device: str = "cpu") -> dict:
    """Table IV: {model: {framework: model_efficiency(...)}} for every model in ``widths``.

    widths: params ``paper.models`` (name -> constructor widths). Weights are seeded so the
    result is the same on every run (only shapes matter to the figures anyway).
    """
    from pipeline.models.registry import create_fusion_model

    table: dict = {}
    for name in sorted(widths):
        for framework, channels in FRAMEWORK_CHANNELS.items():
            torch.manual_seed(0)
            model = create_fusion_model(name, channels, **widths[name])
            table.setdefault(name, {})[framework] = model_efficiency(model, channels, size, device)
    return table


MEMORY_MEASURE = (
    "peak bytes of live tensor storages (parameters, buffers, inputs, activations) during one "
    "inference forward pass under torch.no_grad(), batch 1, tracked by a TorchDispatchMode; "
    "MB = 2^20 bytes; deterministic, allocator rounding and kernel workspaces not included"
)
