"""The intra-op thread count every stage pins from params (`<profile>.threads`).

Float reductions split differently across threads, so the thread count is part of a stage's
configuration: pinning it from params (not from whatever OMP_NUM_THREADS the shell exports)
makes `dvc repro` write the committed bytes in any environment.
"""
from __future__ import annotations

import os
import sys

# Libraries that read their pool size from the environment when they load.
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pin_threads(params: dict) -> int:
    """Set torch's, OpenMP's, BLAS's and OpenCV's thread counts to `<profile>.threads`; return it."""
    from pipeline.params import ParamsError, profile_section

    threads = profile_section(params, "threads")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ParamsError(f"params.yaml: {params['profile']}.threads={threads!r}; it must be a whole number >= 1 "
                          "(the intra-op thread count every stage uses).")
    for name in _THREAD_ENV:  # torch, OpenMP and BLAS read these when they load (call this first)
        os.environ[name] = str(threads)
    if "torch" in sys.modules:  # already loaded: its pool was sized from the old environment
        sys.modules["torch"].set_num_threads(threads)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(threads)
    return threads


def gpus(params: dict) -> int:
    """`<profile>.gpus`, checked (a whole number >= 1, no more than the visible GPUs)."""
    from pipeline import distributed as dist
    from pipeline.params import ParamsError, profile_section

    try:
        return dist.check_gpus(profile_section(params, "gpus"), params["profile"])
    except ValueError as err:
        raise ParamsError(str(err)) from err


def processes(params: dict, module: str):
    """Run the current click command as `<profile>.gpus` processes: re-launched under torchrun when > 1.

    Inside torchrun's processes (or with one process) it opens the process group for the rest of the
    command (nothing at all with one process) and returns this process's place (pipeline.distributed.Context)."""
    import click

    from pipeline import distributed as dist

    count = gpus(params)
    context = click.get_current_context()
    if count > 1 and not dist.under_launcher():  # N processes under torchrun, each running this command
        raise SystemExit(dist.relaunch(count, module, dist.cli_args(context)))
    return context.with_resource(dist.process_group())
