"""Model complexity for Table IV: parameters, MACs, peak inference memory.

- MACs: ``torch.utils.flop_counter.FlopCounterMode`` counts convolutions, linear layers and
  matmuls (attention's q@k^T and attn@v included; the models write attention as matmuls);
  FLOPs / 2 = MACs. Counted on the meta device: no arithmetic is done, so it is fast and exact.
- Peak memory (``peak_memory_mb``): a TorchDispatchMode that tracks the bytes of every live
  tensor storage (parameters, buffers, inputs, activations) during one inference forward
  pass under ``torch.no_grad()``, and records the maximum. It depends only on the sequence of
  operators, so it is deterministic; it ignores allocator rounding and kernels' private
  workspaces. ``cuda_peak_memory_mb`` gives the allocator's view
  (``torch.cuda.max_memory_allocated``) when a GPU is there.
- Training-step memory (``step_peak_bytes``): the same tracker over whole training steps
  (autograd's saved tensors, gradients and optimizer state included: a storage counts until
  it dies), optionally under FakeTensorMode, where no memory is allocated and no arithmetic
  done: the paper-scale peaks of benchmarks/paper_scale.py. A fake run counts exactly the
  bytes a real CPU run counts (tests/models/test_memory_tracker.py).
"""
from __future__ import annotations

import contextlib
import weakref

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
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
    """Tracks the bytes of live tensor storages, and their peak.

    A storage is counted from the operator that creates it until the storage itself dies
    (a weakref on the storage, whose Python object lives as long as the storage does), so a
    tensor kept only inside autograd's graph (a saved output, held by a C++ copy of the
    tensor) or by the optimizer still counts. ``held``: tensors alive before tracking starts
    (parameters, buffers, gradients, optimizer state, inputs); they count in the baseline
    and leave it when they die (e.g. gradients set to None).

    meta_scalars: a fake tensor (FakeTensorMode) or a meta tensor has no value to read; with
    this on, ``.item()`` reads 1 (the memory of a step depends on its shapes, not its values),
    so a whole training step runs on fake tensors: a paper-scale peak is measured without
    allocating it (see :func:`step_peak_bytes`, :class:`ShapeOnlyCalls`).
    """

    def __init__(self, held=(), meta_scalars: bool = False):
        super().__init__()
        self.current = self.peak = 0
        self.live: dict[int, int] = {}
        self.meta_scalars = meta_scalars
        for t in held:
            if isinstance(t, torch.Tensor):
                self._track(t)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.meta_scalars:
            fake = _meta_scalar(func, args, kwargs)
            if fake is not None:
                return fake
        out = func(*args, **kwargs)
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out

    def _track(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key, size = storage._cdata, storage.nbytes()
        if key in self.live or size == 0:
            return
        self.live[key] = size
        self.current += size
        self.peak = max(self.peak, self.current)
        weakref.finalize(storage, self._release, key)

    def _release(self, key: int) -> None:
        self.current -= self.live.pop(key)

    def reset_peak(self) -> None:
        """Start a new peak from the bytes live now (e.g. between a warm-up step and the measured one)."""
        self.peak = self.current


def _shape_only(t: torch.Tensor) -> bool:
    """A tensor without data: on the meta device, or a FakeTensor."""
    from torch._subclasses.fake_tensor import FakeTensor

    return t.device.type == "meta" or isinstance(t, FakeTensor)


def _meta_scalar(func, args, kwargs):
    """For fake or meta inputs: .item() -> 1 (of the tensor's kind); a meta tensor's copy to the CPU -> ones."""
    tensors = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
    if not tensors or not _shape_only(tensors[0]):
        return None
    if func is torch.ops.aten._local_scalar_dense.default:
        t = tensors[0]
        return True if t.dtype == torch.bool else (1.0 if t.is_floating_point() else 1)
    if func is torch.ops.aten._to_copy.default and str(kwargs.get("device", "meta")) == "cpu":
        t = tensors[0]
        return torch.ones(t.shape, dtype=kwargs.get("dtype") or t.dtype, device="cpu")
    return None


class ShapeOnlyCalls(TorchFunctionMode):
    """Calls that a FakeTensorMode run needs to pass as a real CPU run would.

    - ``Tensor.tolist()`` of a fake tensor reads ones (as ``.item()`` reads 1 under
      ``LiveTensorBytes(meta_scalars=True)``);
    - ``one_hot`` takes the CPU kernel's path (class-range check by ``aminmax``, then zeros and
      a scatter) instead of the fake path (a comparison with an arange: other tensors).
    With these, a fake run creates exactly the storages a real CPU run does
    (tests/models/test_memory_tracker.py checks a whole stage-II step).
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.tolist and _shape_only(args[0]):
            return torch.ones(args[0].shape, device="cpu").tolist() if args[0].dim() else 1.0
        if func is F.one_hot and _shape_only(args[0]) and args[0].numel():
            x = args[0]
            n = args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
            if n < 0:
                raise ValueError("one_hot of a fake tensor needs num_classes")
            torch.aminmax(x)
            return torch.zeros((*x.shape, n), dtype=x.dtype, device=x.device).scatter_(-1, x.unsqueeze(-1), 1)
        return func(*args, **kwargs)


def fake_modules(fake_mode, modules) -> dict[int, torch.Tensor]:
    """Replace the parameters and buffers of ``modules`` in place by fake tensors of ``fake_mode``.

    Shared tensors stay shared. Returns {id(real tensor): its fake}, e.g. to point an
    optimizer's parameter groups at the fakes.
    """
    memo: dict[int, torch.Tensor] = {}
    for module in modules:
        for m in module.modules():
            for key, p in list(m._parameters.items()):
                if p is not None:
                    if id(p) not in memo:
                        memo[id(p)] = nn.Parameter(fake_mode.from_tensor(p.detach()), requires_grad=p.requires_grad)
                    m._parameters[key] = memo[id(p)]
            for key, b in list(m._buffers.items()):
                if b is not None:
                    if id(b) not in memo:
                        memo[id(b)] = fake_mode.from_tensor(b)
                    m._buffers[key] = memo[id(b)]
    return memo


def step_peak_bytes(step, held, steps: int = 2, fake_mode=None) -> int:
    """Peak live-tensor bytes of the last of ``steps`` calls of ``step()`` (the earlier ones warm up:
    gradients and optimizer state exist from the second step on, as in training).

    held: the tensors alive before the first call (parameters, buffers, inputs). fake_mode: a
    FakeTensorMode the tensors belong to (a paper-scale step measured without its memory).
    """
    tracker = LiveTensorBytes(held, meta_scalars=True)
    with contextlib.ExitStack() as stack:
        if fake_mode is not None:
            stack.enter_context(fake_mode)
        stack.enter_context(ShapeOnlyCalls())
        stack.enter_context(tracker)
        for i in range(steps):
            if i == steps - 1:
                tracker.reset_peak()
            step()
    return tracker.peak


def peak_memory_mb(model: nn.Module, channels: int, size: int = 256, device: str = "cpu") -> float:
    """Peak bytes of live tensors (MB = 2^20 bytes) for one inference pass at size x size.

    Run on fake tensors (FakeTensorMode) of a copy of the model: nothing is computed, and the
    tracker counts exactly the storages a real run creates (same operators, same shapes; checked
    against real runs of every Table IV model in tests/models/test_complexity.py), so the paper's
    SwinFusion at 256x256 takes 0.5 s instead of 10 s on one CPU core. ``device`` only places the copy.
    """
    import copy

    from torch._subclasses.fake_tensor import FakeTensorMode

    model = copy.deepcopy(model).to(device).eval()
    mode = FakeTensorMode()
    fake_modules(mode, [model])
    with mode:
        ir, vis = _inputs(channels, size, device)
    tracker = LiveTensorBytes(list(model.parameters()) + list(model.buffers()) + [ir, vis], meta_scalars=True)
    with mode, ShapeOnlyCalls(), torch.no_grad(), tracker:
        out = model(ir, vis)
    del out
    return tracker.peak / MB


def real_peak_memory_mb(model: nn.Module, channels: int, size: int = 256, device: str = "cpu") -> float:
    """:func:`peak_memory_mb` on real tensors (every operator computed): the reference it must equal."""
    model = model.to(device).eval()
    ir, vis = _inputs(channels, size, device)
    mode = LiveTensorBytes(list(model.parameters()) + list(model.buffers()) + [ir, vis])
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


NOT_MEASURED = "n/a"  # the CUDA allocator's peak off a GPU


def model_efficiency(model: nn.Module, channels: int, size: int = 256, device: str = "cpu") -> dict:
    """Parameters, MACs and peak memory of one model at size x size, rounded for JSON.

    mem_MB: the live-tensor tracker (any device); cuda_mem_MB: the CUDA allocator's peak
    (``torch.cuda.max_memory_allocated``) on a CUDA device, "n/a" elsewhere.
    """
    params = count_parameters(model)
    macs = count_macs(model, channels, size)
    return {
        "params": params,
        "params_M": round(params / 1e6, 6),
        "macs": macs,
        "macs_G": round(macs / 1e9, 6),
        "mem_MB": round(peak_memory_mb(model, channels, size, device), 6),
        "cuda_mem_MB": round(cuda_peak_memory_mb(model, channels, size), 6) if str(device).startswith("cuda") else NOT_MEASURED,
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


CUDA_MEMORY_MEASURE = (
    "cuda_mem_MB: torch.cuda.max_memory_allocated over the same inference pass (peak stats reset after the "
    "model and inputs are on the GPU, so they count), MB = 2^20 bytes; includes the caching allocator's 512-byte "
    "rounding and the workspaces kernels allocate through it (cuBLAS, cuDNN), not the CUDA context; the most likely "
    "reading of the paper's 'Mem (MB)' (a GPU measurement); 'n/a' when the stage runs without a GPU"
)
MEMORY_MEASURE = (
    "peak bytes of live tensor storages (parameters, buffers, inputs, activations) during one "
    "inference forward pass under torch.no_grad(), batch 1, tracked by a TorchDispatchMode; "
    "MB = 2^20 bytes; deterministic, allocator rounding and kernel workspaces not included"
)
