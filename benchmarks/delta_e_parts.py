"""Where a fusion's ΔE (CIEDE2000 against the visible image) comes from: its luminance or its colour.

    python benchmarks/delta_e_parts.py [--root WS] [--dataset fmb] [--run RUN ...] [--test 20]

Reads a finished workspace's fused test images (`dvc repro` first). Each image is split into BT.601 Y and
CbCr (kornia, as Eq. 3's L_color) and recombined with another image's part:
- "own Y + visible CbCr": the run's luminance alone (a fusion with the visible's exact colour);
- "max Y + own CbCr": the run's colour alone, on the `max` rule's luminance;
- saturation: mean |CbCr - neutral| over the visible image's.
So a run whose "own Y + visible CbCr" already exceeds 1.2x the `max` rule's ΔE cannot meet issue 21's ΔE
target by learning colour alone. Prints a markdown table (means over the first N test images).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ycbcr(rgb: np.ndarray) -> torch.Tensor:
    from kornia.color import rgb_to_ycbcr

    return rgb_to_ycbcr(torch.tensor(rgb, dtype=torch.float64).permute(2, 0, 1)[None] / 255)


def _rgb8(y: torch.Tensor, cbcr: torch.Tensor) -> np.ndarray:
    from kornia.color import ycbcr_to_rgb

    out = ycbcr_to_rgb(torch.cat([y, cbcr], 1)).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    return np.rint(out * 255).astype(np.uint8)


def _saturation(ycc: torch.Tensor) -> float:
    return float((ycc[:, 1:] - 0.5).abs().mean())


def learned_runs(params: dict, dataset: str) -> list[str]:
    """The dataset's 3-channel SSVIF runs: the runs issue 21's ΔE target applies to."""
    return [n for n, r in params["runs"].items()
            if r["dataset"] == dataset and r["framework"] == "ssvif" and r.get("channels") == 3]


@click.command()
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=ROOT,
              show_default=True, help="a workspace after `dvc repro`")
@click.option("--dataset", default="fmb", show_default=True)
@click.option("--run", "runs", multiple=True, help="runs to split (default: the dataset's 3-channel SSVIF runs)")
@click.option("--test", "n_test", type=int, default=20, show_default=True, help="test images scored")
def main(root: Path, dataset: str, runs: tuple[str, ...], n_test: int) -> None:
    import yaml

    from pipeline import layout
    from pipeline.data.io import read_visible
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.metrics.delta_e import delta_e
    from pipeline.metrics.protocol import read_rgb8

    params = yaml.safe_load((root / layout.PARAMS_FILE).read_text())
    runs = runs or tuple(learned_runs(params, dataset))
    spec, split = get_dataset(dataset), json.loads((root / layout.split_file(dataset)).read_text())
    stems = split["test"][:n_test]
    rows: dict[str, list[list[float]]] = {m: [] for m in ("max", *runs)}
    for stem in stems:
        vis = read_visible(pair_paths(spec, root / layout.raw_dir(dataset), stem, "test")["vis"])
        v, m = _ycbcr(vis), _ycbcr(read_rgb8(root / layout.fused_dir("max", dataset) / f"{stem}.png"))
        for method in rows:
            path = root / layout.fused_dir(method, dataset) / f"{stem}.png"
            if not path.exists():
                raise SystemExit(f"{path}: missing; run `dvc repro` in {root} first (or drop --run {method})")
            f = _ycbcr(read_rgb8(path))
            rows[method].append([delta_e(_rgb8(f[:, :1], f[:, 1:]), vis), delta_e(_rgb8(f[:, :1], v[:, 1:]), vis),
                                 delta_e(_rgb8(m[:, :1], f[:, 1:]), vis), _saturation(f) / _saturation(v)])
    mean = {k: np.mean(r, axis=0) for k, r in rows.items()}
    ref = mean["max"][0]
    print(f"{dataset}: ΔE (CIEDE2000) against the visible image, first {len(stems)} test images; "
          f"x: over the `max` rule's {ref:.2f}\n")
    print("| method | ΔE | own Y + visible CbCr (luminance part) | max Y + own CbCr (colour part) | saturation vs visible |")
    print("| --- | --- | --- | --- | --- |")
    for k, (de, lum, col, sat) in mean.items():
        print(f"| {k} | {de:.2f} ({de / ref:.2f}x) | {lum:.2f} ({lum / ref:.2f}x) | {col:.2f} ({col / ref:.2f}x) | {sat:.2f} |")


if __name__ == "__main__":
    main()
