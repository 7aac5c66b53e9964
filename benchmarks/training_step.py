"""Per-step time of the SSVIF stage-II step: GDWA vs fixed weighting, and images/second per model.

python benchmarks/training_step.py [--profile quick] [--steps 5] [--crop C] [--batch B]

GDWA needs ||grad L_fus|| and ||grad L_csc|| over the fusion model's parameters every step.
The trainer gets them without recomputing anything: torch.autograd.grad(L_fus, theta_F,
retain_graph=True), then L_csc.backward() (which also fills H and S), then the weighted sum
c_fus g_fus + c_csc g_csc is written into theta_F's .grad. Versus one backward of the total
(fixed weighting, gradient statistics off), the extra cost is one more backward through F.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _settings(params, profile, model, weighting, crop, batch):
    from pipeline.train.run import RunSettings

    p = params[profile]
    run = {"framework": "ssvif", "model": model, "dataset": "fmb", "channels": 3, "n_classes": 15,
           "lambda_color": 20, "csc": True, "two_stage": False}
    train = {**p["train"], "crop": crop, "batch": batch}
    return RunSettings(name=f"bench-{model}-{weighting}", run=run, widths=p["models"][model], train=train,
                       segformer=p["segformer"], loss=params["loss"], weightings=params["weightings"],
                       weighting=weighting, seed=0, ssvif_lr=params["ssvif_lr"], lr_scale=p["lr_scale"],
                       lr_max=p.get("lr_max"))


def time_steps(params, profile, model, weighting, stats, crop, batch, steps) -> float:
    """Median seconds per stage-II step (after one warm-up step)."""
    from pipeline.train.run import build_trainer

    trainer = build_trainer(_settings(params, profile, model, weighting, crop, batch), device="cpu", log=lambda _: None)
    config = replace(trainer.config, gradient_stats=stats)
    trainer.strategy.begin_epoch(2, [])
    g = torch.Generator().manual_seed(0)
    batch_ = {"ir": torch.rand(batch, 1, crop, crop, generator=g), "vis": torch.rand(batch, 3, crop, crop, generator=g)}
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        trainer.strategy.step(batch_, 2, trainer.optimizer, config)
        if i:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--crop", type=int, default=None, help="default: <profile>.train.crop")
    parser.add_argument("--batch", type=int, default=None, help="default: <profile>.train.batch")
    args = parser.parse_args()
    torch.manual_seed(0)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    crop = args.crop or int(params[args.profile]["train"]["crop"])
    batch = args.batch or int(params[args.profile]["train"]["batch"])
    print(f"profile {args.profile}, crop {crop}, batch {batch}, threads {torch.get_num_threads()}, "
          f"median of {args.steps} stage-II steps")
    print("| model | fixed s/step | GDWA s/step | GDWA / fixed | GDWA images/s |")
    print("| --- | --- | --- | --- | --- |")
    for model in ("swinfusion", "seafusion", "emma"):
        fixed = time_steps(params, args.profile, model, "fixed", False, crop, batch, args.steps)
        gdwa = time_steps(params, args.profile, model, "gdwa", True, crop, batch, args.steps)
        print(f"| {model} | {fixed:.3f} | {gdwa:.3f} | {gdwa / fixed:.2f}x | {batch / gdwa:.1f} |", flush=True)


if __name__ == "__main__":
    main()
