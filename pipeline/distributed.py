"""Several processes, one model: torchrun's environment, DDP, sharding, rank-0 writes (reusable by any stage).

A stage that may run under ``torchrun`` (``torch.distributed.run``) reads its place with
:func:`context` (RANK, WORLD_SIZE, LOCAL_RANK; one process without them), opens the process
group with :func:`process_group` (NCCL on CUDA, gloo on CPU; nothing at all with one process,
so a single-process run executes exactly the code it ran before this module existed), wraps its
model with :func:`wrap`, and lets only :func:`is_writer` (rank 0) write files.

Data: :func:`shard` is a rank's interleaved share of one global batch, the same split torch's
``DistributedSampler`` makes, for loops that draw their own global batches (the segment stage
does, so that its crops are those of one process).
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Iterator, Sequence, TypeVar

import torch
from torch import nn

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def context() -> Context:
    """This process's place from torchrun's environment; (0, 1, 0) without it."""
    return Context(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))


def under_launcher() -> bool:
    """True inside a process that torchrun started (it sets WORLD_SIZE)."""
    return "WORLD_SIZE" in os.environ


def check_gpus(value, profile: str) -> int:
    """`<profile>.gpus` as a process count: a whole number >= 1, at most the GPUs present (any on the CPU)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"params.yaml: {profile}.gpus={value!r}; it must be a whole number >= 1 "
                         "(the processes, one GPU each, a stage trains with).")
    if value > 1 and torch.cuda.is_available() and value > torch.cuda.device_count():
        raise ValueError(f"params.yaml: {profile}.gpus={value} but only {torch.cuda.device_count()} GPU(s) are "
                         "visible (CUDA_VISIBLE_DEVICES).")
    return value


def cli_args(click_context) -> list[str]:
    """The options of a click command's context as a command line again (to start it under torchrun)."""
    args: list[str] = []
    for param in click_context.command.params:
        value = click_context.params.get(param.name)
        if value is None or value is False:
            continue
        args += [param.opts[0]] if value is True else [param.opts[0], str(value)]
    return args


def relaunch(nproc: int, module: str, args: Sequence[str]) -> int:
    """Run ``python -m <module> <args>`` as ``nproc`` processes on this machine, as ``torchrun --standalone``.

    Through torch's launcher API rather than torchrun's command line, whose option parser would take
    a stage option such as ``--run`` for an abbreviation of its own ``--run-path``. A rendezvous on a
    free port (standalone), so runs side by side do not collide; returns 0, or 1 if a process failed."""
    import uuid

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=int(nproc), run_id=str(uuid.uuid4()),
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0)
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", module, *args)
    except ChildFailedError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def device_for(ctx: Context) -> torch.device:
    """cuda:<LOCAL_RANK> where CUDA is available (one GPU per process), else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", ctx.local_rank if ctx.distributed else torch.cuda.current_device())
    return torch.device("cpu")


@contextlib.contextmanager
def process_group(ctx: Context | None = None) -> Iterator[Context]:
    """Initialise the default process group for the block (NCCL on CUDA, gloo on CPU), destroy it after.

    With one process nothing is initialised and the block runs as plain code."""
    ctx = ctx or context()
    if not ctx.distributed:
        yield ctx
        return
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(ctx.local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", rank=ctx.rank, world_size=ctx.world_size)
    try:
        yield ctx
    finally:
        dist.destroy_process_group()


def initialized() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def rank() -> int:
    return torch.distributed.get_rank() if initialized() else 0


def world_size() -> int:
    return torch.distributed.get_world_size() if initialized() else 1


def is_writer() -> bool:
    """Only rank 0 writes outputs, checkpoints and logs."""
    return rank() == 0


def barrier() -> None:
    if initialized():
        torch.distributed.barrier()


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum of ``value`` over all processes (in place and returned); ``value`` itself with one process.

    Integer tensors (confusion matrices, counts) add exactly; float sums depend on the world size only."""
    if initialized():
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.SUM)
    return value


def all_reduce_mean(metrics: dict[str, float]) -> dict[str, float]:
    """Mean of each scalar metric over all processes (float64)."""
    if not initialized():
        return dict(metrics)
    names = sorted(metrics)
    device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
    values = all_reduce_sum(torch.tensor([float(metrics[n]) for n in names], dtype=torch.float64, device=device))
    return {n: float(v) / world_size() for n, v in zip(names, values.tolist())}


def shard(batch: Sequence[T], ctx: Context | None = None) -> list[T]:
    """This rank's interleaved share of a global batch (items rank, rank + world, ...)."""
    ctx = ctx or context()
    return list(batch[ctx.rank::ctx.world_size])


def wrap(model: nn.Module) -> nn.Module:
    """DistributedDataParallel around ``model`` (the same module with one process).

    DDP registers the parameters that require gradients when it is built: wrap again after
    changing ``requires_grad`` (for example after unfreezing an encoder)."""
    if not initialized():
        return model
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, output_device=ids[0] if ids else None)


class _AllReduceSum(torch.autograd.Function):
    """Differentiable all-reduce (sum): the gradient of a sum over ranks is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx, value: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(value.clone())

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(grad.clone())


def global_sum(value: torch.Tensor) -> torch.Tensor:
    """Differentiable sum of ``value`` over the processes (batch-level statistics of the global batch); itself with one.

    Every rank then holds the global statistic and its gradient reaches every rank's inputs; after
    :func:`average_gradients` the parameters get the one-process gradient of the global batch."""
    return _AllReduceSum.apply(value) if initialized() else value


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics cover the global batch of all processes, on any backend.

    torch's SyncBatchNorm needs GPUs; this one all-reduces (count, sum, sum of squares) through a
    differentiable all-reduce, so forward and gradients are those of one process seeing the whole
    batch (up to float rounding). The same parameters and buffers as BatchNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and initialized()):
            return super().forward(x)
        dims = (0, 2, 3)
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
        stats = _AllReduceSum.apply(torch.cat([count, x.sum(dims), (x * x).sum(dims)]))
        n = stats[0]
        mean = stats[1:1 + x.shape[1]] / n
        var = stats[1 + x.shape[1]:] / n - mean * mean
        with torch.no_grad():
            self.num_batches_tracked += 1
            momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
            self.running_var.mul_(1 - momentum).add_(momentum * var.detach() * n / (n - 1).clamp(min=1))
        shape = (1, -1, 1, 1)
        y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


def sync_batchnorm(model: nn.Module) -> nn.Module:
    """Global-batch BatchNorm under several processes: torch's SyncBatchNorm on CUDA, GlobalBatchNorm2d on CPU.

    Without a process group the model is returned unchanged."""
    if not initialized():
        return model
    if next(model.parameters()).device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.BatchNorm2d and child.track_running_stats:
                bn = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                       child.track_running_stats, device=child.weight.device)
                bn.load_state_dict(child.state_dict())
                bn.train(child.training)
                setattr(parent, name, bn)
    return model


def average_gradients(params) -> None:
    """Each parameter's .grad becomes its mean over the processes: the gradient of the global batch's mean loss.

    For steps that take gradients by hand (``torch.autograd.grad`` for task gradients), where DDP's
    backward hooks never fire. A no-op with one process, so single-process bytes are unchanged."""
    if not initialized():
        return
    for p in params:
        if p.grad is not None:
            all_reduce_sum(p.grad).div_(world_size())


def average_tensors(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """The processes' mean of each tensor (in place and returned); the tensors themselves with one process."""
    if initialized():
        for t in tensors:
            all_reduce_sum(t).div_(world_size())
    return tensors


def shard_batch(batch: dict) -> dict:
    """This rank's interleaved share of a collated batch (tensors on dim 0, lists alike); the batch with one process."""
    if not initialized():
        return batch
    return {k: v[rank()::world_size()] for k, v in batch.items()}
