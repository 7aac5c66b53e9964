"""Deterministic kernels where the device needs asking.

On CUDA, cuDNN/cuBLAS pick non-deterministic algorithms unless told otherwise. CPU
kernels are deterministic for a fixed thread count (tests/train checks byte-identical
checkpoints), and `torch.use_deterministic_algorithms` costs ~2.5 s per process on
CPU because it imports torch._inductor: it is only set when CUDA is in use.
"""
from __future__ import annotations

import os


def deterministic_kernels() -> None:
    import torch

    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
