"""Training throughput of the fusion models on this machine: forward + backward + Adam step.

    OMP_NUM_THREADS=1 python benchmarks/fusion_models.py [--iters 3] [--channels 3] [--profiles quick,paper]

Prints one table: images/second at the quick widths (crop 64) and the paper widths (crop 160),
batch 2, widths from params.yaml `<profile>.models`. CUDA when available, CPU otherwise.
"""
from __future__ import annotations

import time

import click
import torch

CROPS = {"quick": 64, "paper": 160}
BATCH = 2


def images_per_second(model: torch.nn.Module, channels: int, crop: int, iters: int, device: str) -> float:
    """Mean training throughput over ``iters`` steps after one warm-up step."""
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    ir = torch.rand(BATCH, channels, crop, crop, device=device)
    vis = torch.rand(BATCH, channels, crop, crop, device=device)
    target = torch.maximum(ir, vis)  # an intensity-like loss, the dominant term of L_fus

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        (model(ir, vis) - target).abs().mean().backward()
        optimizer.step()

    step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return iters * BATCH / (time.perf_counter() - start)


@click.command()
@click.option("--iters", default=3, show_default=True, help="Timed steps per model.")
@click.option("--channels", default=3, show_default=True, type=click.Choice(["1", "3"]))
@click.option("--profiles", default="quick,paper", show_default=True)
def main(iters: int, channels: str, profiles: str) -> None:
    from pipeline.models.complexity import count_parameters
    from pipeline.models.registry import FUSION_MODELS, create_fusion_model
    from pipeline.params import get, load_params

    params = load_params()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    click.echo(f"device={device} threads={torch.get_num_threads()} batch={BATCH} channels={channels} iters={iters}")
    click.echo(f"{'model':<12}{'profile':<9}{'crop':>6}{'params':>11}{'img/s':>10}")
    for profile in profiles.split(","):
        for name in sorted(FUSION_MODELS):
            model = create_fusion_model(name, int(channels), **get(params, f"{profile}.models.{name}"))
            rate = images_per_second(model, int(channels), CROPS[profile], iters, device)
            click.echo(f"{name:<12}{profile:<9}{CROPS[profile]:>6}{count_parameters(model):>11,}{rate:>10.2f}")


if __name__ == "__main__":
    main()
