"""How far a short fusion training gets: stage I (L_fus alone) on a dataset's training crops,
with the validation images' fusion-loss terms (Eq. 3) after every quarter, beside the `max`
rule's images and a grey image (the visible image's channel mean).

    python benchmarks/fusion_probe.py [--dataset msrs] [--model swinfusion] [--steps 64] [--lr 1e-3]
        [--batch 2] [--crop 64] [--embed-dim N] [--weights L1,L2,L3,L4]

Needs the dataset's raw folder and split file (run `dvc repro` first); widths from params.yaml
`quick.models`, lambdas (default) from `loss.*` and the headline FMB run's `lambda_color`,
3 channels (SSVIF's RGB fusion), one CPU thread, seed 0. The
README's "Starting points" diagnosis of the quick fused images (their L_color stays at a grey
image's) comes from this probe.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click
import torch

ROOT = Path(__file__).resolve().parents[1]
TERMS = ("int", "grad", "ssim", "color", "total")


def _row(label: str, seconds: float | str, terms: dict) -> str:
    cells = [f"{terms[k]:.4f}" for k in TERMS]
    return f"| {label} | {seconds} | " + " | ".join(cells) + " |"


def _mean_terms(images, loss) -> dict:
    """Mean of each Eq. 3 term over (fused, ir, vis) triples."""
    sums = dict.fromkeys(TERMS, 0.0)
    for fused, ir, vis in images:
        for k, v in loss(fused, ir, vis).items():
            sums[k] += v.item() / len(images)
    return sums


@click.command()
@click.option("--dataset", default="msrs", show_default=True)
@click.option("--model", "model_name", default="swinfusion", show_default=True)
@click.option("--steps", default=64, show_default=True)
@click.option("--lr", default=1e-3, show_default=True)
@click.option("--batch", default=2, show_default=True)
@click.option("--crop", default=64, show_default=True)
@click.option("--embed-dim", type=int, default=None, help="SwinFusion width (default: quick.models)")
@click.option("--weights", default=None, help="lambda1..lambda4 of Eq. 3, comma-separated (default: params.yaml)")
def main(dataset, model_name, steps, lr, batch, crop, embed_dim, weights) -> None:
    import yaml

    from pipeline import layout
    from pipeline.data.registry import get_dataset
    from pipeline.losses.fusion_loss import FusionLossWeights, fusion_loss
    from pipeline.models.registry import create_fusion_model
    from pipeline.train.data import train_batches, validation_batches
    from pipeline.train.step import fusion_forward

    torch.set_num_threads(1)
    raw, split_file = ROOT / layout.raw_dir(dataset), ROOT / layout.split_file(dataset)
    if not split_file.is_file():
        raise click.ClickException(f"{split_file} is missing: run `dvc repro` first (the probe reads the split's images)")
    spec, split = get_dataset(dataset), json.loads(split_file.read_text())
    params = yaml.safe_load((ROOT / layout.PARAMS_FILE).read_text())
    widths = dict(params["quick"]["models"][model_name])
    if embed_dim:
        widths["embed_dim"] = embed_dim
    if weights is None:
        lam_int, lam_grad, lam_ssim = (params["loss"][k] for k in ("lambda_int", "lambda_grad", "lambda_ssim"))
        weights = f"{lam_int},{lam_grad},{lam_ssim},{params['runs']['ssvif-swinfusion-fmb']['lambda_color']}"
    lam = FusionLossWeights(*[float(x) for x in weights.split(",")])

    def loss(fused, ir, vis):
        return fusion_loss(fused, ir, vis, lam)

    val = list(validation_batches(spec, raw, split["val"], 0))
    sources = [(b["ir"].expand(-1, 3, -1, -1), b["vis"]) for b in val]
    torch.manual_seed(0)
    model = create_fusion_model(model_name, 3, **widths)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    device = torch.device("cpu")

    def evaluate() -> dict:
        model.eval()
        with torch.no_grad():
            fused = [fusion_forward(model, b, 3, device)[1].clamp(0, 1) for b in val]
        model.train()
        return _mean_terms([(f, ir, vis) for f, (ir, vis) in zip(fused, sources)], loss)

    print(f"{model_name} {widths} on {dataset}: lr {lr}, batch {batch}, crop {crop}, lambdas {weights}; "
          f"{len(val)} validation images\n")
    print("| images | train s | L_int | L_grad | L_ssim | L_color | total |")
    print("|---|---|---|---|---|---|---|")
    print(_row("max rule", "-", _mean_terms([(torch.maximum(ir, vis), ir, vis) for ir, vis in sources], loss)))
    print(_row("grey", "-", _mean_terms([(vis.mean(1, keepdim=True).expand(-1, 3, -1, -1), ir, vis)
                                          for ir, vis in sources], loss)))
    step, epoch, trained = 0, 0, 0.0
    while step < steps:
        epoch += 1
        for b in train_batches(spec, raw, split["train"], crop, batch, 0, epoch):
            start = time.perf_counter()
            _, fused, ir, vis = fusion_forward(model, b, 3, device)
            optimizer.zero_grad(set_to_none=True)
            loss(fused, ir, vis)["total"].backward()
            optimizer.step()
            trained += time.perf_counter() - start
            step += 1
            if step % max(1, steps // 4) == 0 or step == steps:
                print(_row(f"after {step} steps", f"{trained:.1f}", evaluate()), flush=True)
            if step >= steps:
                break


if __name__ == "__main__":
    main()
