"""Does Eq. 3 itself prefer a desaturated fusion? Score the `max` rule's images, their chroma scaled by k towards
grey, with the SSVIF fusion loss (Eq. 3, params' lambdas and the headline run's lambda4) and with ΔE.

    python benchmarks/loss_colour_optimum.py [--dataset fmb] [--test 20]

The `max` rule keeps the visible image's CbCr, so k = 1 is its output and k = 0 a grey image of the same
luminance. L_int and L_ssim compare each RGB channel with the (grey) infrared image, so they can reward
less colour; L_color rewards the visible colour. If the total falls as k falls, a training that minimises
Eq. 3 is pulled away from the visible colour, and ΔE near the `max` rule's is not its optimum. Prints a
markdown table (means over the first N test images). Needs `dvc repro` to have fetched and split the data.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCALES = (1.0, 0.75, 0.5, 0.25, 0.0)


def _desaturate(rgb: np.ndarray, k: float) -> np.ndarray:
    """uint8 RGB with its BT.601 CbCr scaled by k about the neutral 128 (Y kept)."""
    from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb

    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].double() / 255
    ycc = rgb_to_ycbcr(x)
    ycc[:, 1:] = 0.5 + k * (ycc[:, 1:] - 0.5)
    out = ycbcr_to_rgb(ycc).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    return np.rint(out * 255).astype(np.uint8)


def _tensor(img: np.ndarray) -> torch.Tensor:
    t = torch.tensor(img, dtype=torch.float32) / 255  # a copy: images read by PIL are read-only
    return (t[None, None] if t.ndim == 2 else t.permute(2, 0, 1)[None])


@click.command()
@click.option("--dataset", default="fmb", show_default=True)
@click.option("--test", "n_test", type=int, default=20, show_default=True, help="test images scored")
def main(dataset: str, n_test: int) -> None:
    from pipeline import layout
    from pipeline.data.io import read_infrared, read_visible
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.losses.fusion_loss import FusionLossWeights, fusion_loss
    from pipeline.metrics.fusion import fusion_metrics
    from pipeline.rules.registry import rule_fuser

    torch.set_num_threads(1)
    params = yaml.safe_load((ROOT / layout.PARAMS_FILE).read_text())
    headline = next(r for r in params["runs"].values() if r.get("headline") and r["dataset"] == dataset)
    loss = params["loss"]
    weights = FusionLossWeights(loss["lambda_int"], loss["lambda_grad"], loss["lambda_ssim"], headline["lambda_color"])
    spec, split = get_dataset(dataset), json.loads((ROOT / layout.split_file(dataset)).read_text())
    raw, fuse = ROOT / layout.raw_dir(dataset), rule_fuser("max")
    rows = {k: [] for k in SCALES}
    for stem in split["test"][:n_test]:
        paths = pair_paths(spec, raw, stem, "test")
        ir, vis = read_infrared(paths["ir"]), read_visible(paths["vis"])
        fused = fuse(ir, vis)
        for k in SCALES:
            f = _desaturate(fused, k)
            with torch.no_grad():
                terms = fusion_loss(_tensor(f), _tensor(ir), _tensor(vis), weights)
            de = fusion_metrics(f, np.repeat(ir[..., None], 3, axis=2), vis, ("dE",))["dE"]
            rows[k].append({**{n: float(v) for n, v in terms.items()}, "dE": float(de)})
    print(f"{dataset}: the `max` rule's first {n_test} test images, CbCr x k; Eq. 3 with lambdas "
          f"{weights.intensity:g} / {weights.gradient:g} / {weights.ssim:g} / {weights.color:g}\n")
    print("| k | L_int | L_grad | L_ssim | L_color | Eq. 3 total | ΔE (CIEDE2000) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k, r in rows.items():
        mean = {n: np.mean([x[n] for x in r]) for n in r[0]}
        print(f"| {k:g} | {mean['int']:.4f} | {mean['grad']:.4f} | {mean['ssim']:.4f} | {mean['color']:.4f} "
              f"| {mean['total']:.4f} | {mean['dE']:.2f} |")


if __name__ == "__main__":
    main()
