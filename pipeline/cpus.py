"""CPU cores this process may use (no torch import: `ssvif metrics` starts without it)."""
from __future__ import annotations

import os


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)
